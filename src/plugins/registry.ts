import {
  MAX_PLUGIN_CODE_BYTES,
  type InstallPlugin,
  type Refusal,
  type Result,
} from "../protocol/index.ts";
import type { PluginManifest } from "../protocol/automation.ts";
import { checkGrant, checkManifest } from "./install-rules.ts";
import { instrument } from "./instrument.ts";
import { describePlugin } from "./runner.ts";

/**
 * Installing a plugin version (docs/plugins.md, "Install and versions"), up to what the
 * PluginRegistry object stores: the module's size, its metering (instrument.ts, which refuses
 * imports and the sandbox's names), one load in a sandbox of its own to read its manifest, the
 * manifest checked against the contract and the id it is installed as, and the admin's grant of
 * hosts. The object then refuses a version it already has.
 */

/** What SQLite in a Durable Object keeps in one value, with room to spare. */
export const MAX_STORED_CODE_BYTES = 1_900_000;

export type PreparedPlugin = {
  manifest: PluginManifest;
  /** The instrumented module, as sandboxes load it. */
  code: string;
  hosts: string[];
  /** The uploaded module's size. */
  codeBytes: number;
};

const refuse = (code: Refusal["code"], message: string): { ok: false; error: Refusal } => ({
  ok: false,
  error: { code, message },
});

export async function preparePlugin(
  id: string,
  input: InstallPlugin,
  deps: { loader: WorkerLoader; allowLoopback: boolean },
): Promise<Result<PreparedPlugin>> {
  const codeBytes = new TextEncoder().encode(input.code).byteLength;
  if (codeBytes > MAX_PLUGIN_CODE_BYTES) {
    return refuse(
      "too_large",
      `code is at most ${MAX_PLUGIN_CODE_BYTES} bytes (${codeBytes} given)`,
    );
  }
  const metered = instrument(input.code);
  if (!metered.ok) return refuse("bad_request", `code: ${metered.problem}`);
  if (new TextEncoder().encode(metered.code).byteLength > MAX_STORED_CODE_BYTES) {
    return refuse(
      "too_large",
      `code is too large once metered (at most ${MAX_STORED_CODE_BYTES} bytes)`,
    );
  }
  const described = await describePlugin(deps.loader, metered.code);
  if (described.outcome !== "ok") {
    return refuse(
      "bad_request",
      `code: the plugin did not load (${described.outcome}): ${described.message}`,
    );
  }
  const manifest = checkManifest(described.value, id);
  if (!manifest.ok) return manifest;
  const hosts = checkGrant(input.hosts, manifest.value, deps.allowLoopback);
  if (!hosts.ok) return hosts;
  return {
    ok: true,
    value: { manifest: manifest.value, code: metered.code, hosts: hosts.value, codeBytes },
  };
}
