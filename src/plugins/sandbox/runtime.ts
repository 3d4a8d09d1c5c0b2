import { installAllocationMeter } from "./allocation.ts";
import { BUDGETS, Meter, MiB, PluginLimit } from "./meter.ts";
import { CALL_HEADER, REFUSED_HEADER } from "./names.ts";

/**
 * The sandbox's runtime, the first module a plugin's Dynamic Worker evaluates (docs/plugins.md):
 * the meter of the isolate, the allocation meter put on its built-ins, the global `fetch` counted
 * per call, and the fuel guard the instrumented plugin imports (instrument.ts). The plugin's
 * module runs next, under the load's own budget, closed by the entry (entry.ts) once it has.
 */

/** How long the plugin's module may run while it loads (its top-level code). */
const LOAD_MS = 1000;

export const meter = new Meter(BUDGETS, Date.now);
export { MiB, PluginLimit };

meter.open("load", Date.now() + LOAD_MS);
installAllocationMeter(globalThis, meter);

// `globalOutbound` decides where a request may go (nowhere, or the granted hosts through
// PluginOutbound); here each one is counted against the call and says which call sent it.
const send = globalThis.fetch;
globalThis.fetch = async function fetch(input: RequestInfo | URL, init?: RequestInit) {
  meter.subrequest();
  const request = new Request(input, init);
  request.headers.set(CALL_HEADER, meter.callId);
  const response = await send(request);
  if (response.headers.has(REFUSED_HEADER)) {
    throw new TypeError(`fetch refused: ${await response.text()}`);
  }
  return response;
};

/** The fuel guard (names.ts's FUEL_NAME): one unit per loop iteration and function call. */
export function __edgechat_fuel(): void {
  meter.tick();
}
