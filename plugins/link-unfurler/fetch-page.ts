import { isListed } from "./urls.ts";

/**
 * A page's HTML, fetched within bounds: one deadline for the whole request (redirects and
 * body included), at most `maxBytes` read, redirects followed by hand and only to listed hosts.
 * Null for anything that is not an HTML page; a network error or the deadline throws.
 */
export type FetchLimits = { timeoutMs: number; maxBytes: number; maxRedirects: number };
export const FETCH_LIMITS: FetchLimits = { timeoutMs: 2000, maxBytes: 64 * 1024, maxRedirects: 3 };

const HTML = /^\s*(?:text\/html|application\/xhtml\+xml)\s*(?:;|$)/iu;

export async function fetchHtml(
  url: URL,
  hosts: readonly string[],
  fetchPage: typeof fetch,
  limits: FetchLimits,
): Promise<string | null> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let target = url;
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    const response = await fetchPage(target.href, {
      signal,
      redirect: "manual",
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      const next = new URL(location, target);
      if (!isListed(next, hosts)) return null;
      target = next;
      continue;
    }
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !HTML.test(type) || response.body === null) {
      await response.body?.cancel();
      return null;
    }
    return decode(await readAtMost(response.body, limits.maxBytes), type);
  }
  return null;
}

/** The first `max` bytes of a body; the rest is never read: the stream is cancelled. */
async function readAtMost(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const bytes = new Uint8Array(max);
  let length = 0;
  while (length < max) {
    const { done, value } = await reader.read();
    if (done) return bytes.subarray(0, length);
    const taken = value.subarray(0, max - length);
    bytes.set(taken, length);
    length += taken.length;
  }
  await reader.cancel().catch(() => undefined);
  return bytes;
}

/** In the page's charset when the runtime knows it, else UTF-8; bad bytes become U+FFFD. */
function decode(bytes: Uint8Array, contentType: string): string {
  const charset = /charset\s*=\s*"?([\w-]{1,40})/iu.exec(contentType)?.[1] ?? "utf-8";
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}
