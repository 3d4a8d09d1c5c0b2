/**
 * The links of a message worth a preview: http(s) URLs whose host is listed, each once, in the
 * order they were written, at most `max` of them. Links to other hosts are dropped here, before
 * any request.
 */

/** Up to a space, an angle bracket or a quote; trailing punctuation is taken off after. */
const LINK = /\bhttps?:\/\/[^\s<>"'`]{1,2000}/giu;
const TRAILING = /[.,;:!?)\]}»”’]+$/u;

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

export function listedLinks(text: string, hosts: readonly string[], max: number): URL[] {
  const allowed = new Set(hosts.map((host) => host.toLowerCase()));
  const links: URL[] = [];
  const seen = new Set<string>();
  for (const [raw] of text.matchAll(LINK)) {
    const url = parseUrl(raw.replace(TRAILING, ""));
    if (url === null || !allowed.has(url.hostname) || seen.has(url.href)) continue;
    seen.add(url.href);
    links.push(url);
    if (links.length === max) break;
  }
  return links;
}

/** Whether a redirect's target may be followed: http(s) to a listed host. */
export function isListed(url: URL, hosts: readonly string[]): boolean {
  return (
    (url.protocol === "https:" || url.protocol === "http:") &&
    hosts.some((host) => host.toLowerCase() === url.hostname)
  );
}
