import { metricsConfig } from "../config.ts";
import type { CounterName, HistogramName, LabelsOf } from "./catalogue.ts";
import { Meter } from "./meter.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { metricsShardFor } from "./shards.ts";

/**
 * This isolate's counts (the worker's: HTTP, auth, GraphQL, RPC). Module state on purpose: an
 * isolate serves many requests, and one push per second from it beats one per request.
 */
const meter = new Meter();
let isolateKey: string | undefined;
let shipping: Promise<void> | undefined;
/** Pushes go one after another: a read after `shipNow` sees every push before it. */
let pushed: Promise<void> = Promise.resolve();

export function countInIsolate<N extends CounterName>(name: N, labels: LabelsOf<N>, by = 1): void {
  meter.count(name, labels, by);
}

export function observeInIsolate<N extends HistogramName>(
  name: N,
  labels: LabelsOf<N>,
  seconds: number,
): void {
  meter.observe(name, labels, seconds);
}

/**
 * After a request: pushes this isolate's counts METRICS_SHIP_MS later, unless a push is already
 * on its way (its wait covers these counts too). The returned promise is for `waitUntil`.
 */
export function shipSoon(env: Env): Promise<void> {
  const wait = metricsConfig(env).METRICS_SHIP_MS;
  if (wait === 0) return shipNow(env);
  shipping ??= new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => shipNow(env));
  return shipping;
}

/**
 * Pushes this isolate's counts now, after any push already under way: `/metrics` calls it before
 * it reads the shards, so that it sees what this isolate counted.
 */
export function shipNow(env: Env): Promise<void> {
  shipping = undefined;
  pushed = pushed.then(() => push(env));
  return pushed;
}

/** One push of what was counted; put back on failure. */
async function push(env: Env): Promise<void> {
  if (meter.empty || !metricsConfig(env).METRICS_ENABLED) return;
  const delta = meter.take();
  isolateKey ??= `isolate-${crypto.randomUUID()}`;
  try {
    await metricsShardFor(env, isolateKey).push(delta);
  } catch (error) {
    meter.restore(delta);
    log.warn("metrics not pushed, will retry", { error: errorFields(error) });
  }
}
