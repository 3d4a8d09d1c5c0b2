import type { Refusal, Result } from "../protocol/index.ts";
import { PluginManifest } from "../protocol/automation.ts";
import { grantableHost } from "./hosts.ts";

/**
 * The rules of an install (docs/plugins.md, "Install and versions") that need no runtime: the
 * manifest a plugin describes, checked for the id it is installed as, and the admin's grant of
 * hosts. registry.ts runs them after loading the plugin once.
 */

const refuse = (code: Refusal["code"], message: string): { ok: false; error: Refusal } => ({
  ok: false,
  error: { code, message },
});

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
