import { checkOutboundUrl, classifyHost } from "../integrations/outbound-url.ts";

/**
 * The hosts a plugin may reach (docs/plugins.md, "Network"): granted by the admin at install,
 * each one the plugin asked for, each a public name or address (loopback only where webhooks may
 * reach loopback: local development). At run time a request goes through when the integrations'
 * SSRF guard passes it (https; http to loopback in development) and its host is one granted.
 */

export type HostVerdict = { ok: true; host: string } | { ok: false; reason: string };

/** A host as granted: the host name a URL would show (lower case, IPv6 in brackets), checked. */
export function grantableHost(raw: string, options: { allowLoopback: boolean }): HostVerdict {
  let url: URL;
  try {
    url = new URL(`https://${raw}/`);
  } catch {
    return { ok: false, reason: `${JSON.stringify(raw)} is not a host name` };
  }
  if (url.host !== url.hostname || url.hostname !== raw.toLowerCase() || raw.includes("/")) {
    return {
      ok: false,
      reason: `${JSON.stringify(raw)} is not a bare host name (no port, path or scheme)`,
    };
  }
  const kind = classifyHost(url.hostname);
  if (kind.kind === "refused") return { ok: false, reason: `${raw}: ${kind.reason}` };
  if (kind.kind === "loopback" && !options.allowLoopback) {
    return { ok: false, reason: `${raw} is a loopback host, allowed only in local development` };
  }
  return { ok: true, host: url.hostname };
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Whether a plugin granted `hosts` may send a request to `raw`, and the URL it goes to. */
export function grantedUrl(
  raw: string,
  hosts: readonly string[],
  options: { allowLoopback: boolean },
): UrlVerdict {
  const checked = checkOutboundUrl(raw, options);
  if (!checked.ok) return checked;
  if (!hosts.includes(checked.url.hostname)) {
    return {
      ok: false,
      reason: `the host ${checked.url.hostname} is not one the plugin was granted (${hosts.join(", ") || "none"})`,
    };
  }
  return checked;
}
