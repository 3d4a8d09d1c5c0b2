import type { CommandCall, Draft, PluginEvent } from "../api.ts";

/**
 * What crosses between the runner (in the room's isolate) and a plugin's sandbox (in its own):
 * the RPC methods of the sandbox's entrypoint, their answers, and the capabilities in its `env`.
 */

/** Which call this is and when its time is up (ms since the epoch, the host's clock). */
export type CallInfo = { id: string; deadline: number };

/** Given to the sandbox's entrypoint as `ctx.props`. */
export type SandboxProps = { plugin: string; room: string };

/**
 * A call's answer. `value` is the plugin's answer as JSON data (checked by the runner); a limit
 * is a `PluginLimit` the plugin ran into, even if it caught it; `spent`: the isolate held more
 * than its budget when the call came, and the plugin did not run (the runner replaces the
 * isolate and asks again).
 */
export type SandboxResult =
  { ok: true; value: unknown } | { ok: false; limit: boolean; message: string; spent?: true };

/** The store's RPC methods as the sandbox sees them (store.ts): keys and JSON text. */
export interface StoreBinding {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<{ key: string; value: string }[]>;
}

export type SandboxEnv = { STORE?: StoreBinding };

/** The sandbox's entrypoint, as the runner calls it. */
export interface SandboxEntrypoint {
  describe(call: CallInfo): Promise<SandboxResult>;
  beforeCommit(call: CallInfo, draft: Draft): Promise<SandboxResult>;
  afterEvent(call: CallInfo, event: PluginEvent): Promise<SandboxResult>;
  command(call: CallInfo, command: CommandCall): Promise<SandboxResult>;
  job(call: CallInfo, name: string): Promise<SandboxResult>;
}
