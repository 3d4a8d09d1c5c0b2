import {
  MAX_PLUGIN_CODE_BYTES,
  type InstallPlugin,
  type Refusal,
  type Result,
} from "../protocol/index.ts";
import { PluginManifest } from "../protocol/automation.ts";
import { grantableHost } from "./hosts.ts";
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

/** The manifest the plugin described, checked, for the id it is installed as. */
export function checkManifest(raw: unknown, id: string): Result<PluginManifest> {
  const parsed = PluginManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return refuse("bad_request", `the plugin's definition: ${where}${issue?.message ?? "invalid"}`);
  }
  if (parsed.data.id !== id) {
    return refuse("bad_request", `the plugin's id is ${parsed.data.id}, not ${id}`);
  }
  return { ok: true, value: parsed.data };
}

/** The hosts granted: each one the plugin asks for, and each one a plugin may be let reach. */
export function checkGrant(
  hosts: readonly string[],
  manifest: PluginManifest,
  allowLoopback: boolean,
): Result<string[]> {
  const granted: string[] = [];
  for (const raw of hosts) {
    const host = grantableHost(raw, { allowLoopback });
    if (!host.ok) return refuse("bad_request", `hosts: ${host.reason}`);
    if (!manifest.hosts.map((asked) => asked.toLowerCase()).includes(host.host)) {
      return refuse(
        "bad_request",
        `hosts: ${host.host} is not one the plugin asks for (${manifest.hosts.join(", ") || "none"})`,
      );
    }
    if (!granted.includes(host.host)) granted.push(host.host);
  }
  return { ok: true, value: granted };
}
