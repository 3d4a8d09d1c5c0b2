/**
 * One request to a URL that passed the guard (outbound-url.ts): no redirects followed, a
 * timeout, the answer read only as far as asked, and never a throw: what the delivery log and
 * slash commands record of a receiver's answer.
 */
export type OutboundResult = {
  /** The response's status; null when none came (timeout, network error). */
  status: number | null;
  /** A 2xx. */
  ok: boolean;
  durationMs: number;
  /** The response's `Retry-After`, in seconds from now, when it had a valid one. */
  retryAfterSeconds?: number;
  error?: "timeout" | "network" | "redirect";
  /** The body's first 1 KiB as text, for the delivery log. */
  responseExcerpt: string;
  /** With `bodyBytes`: the body as far as that, for callers that read the answer (slash commands). */
  body?: { text: string; truncated: boolean; contentType: string | null };
};

export const EXCERPT_BYTES = 1024;

/**
 * Sends one request to a URL that passed checkOutboundUrl. A redirect is a failure and is never
 * followed: its target was not checked and could be private. Never throws; the body is read
 * only as far as its first 1 KiB, whatever its size.
 */
export async function sendOutbound(
  url: URL,
  init: RequestInit,
  options: { timeoutMs: number; bodyBytes?: number },
): Promise<OutboundResult> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    // AbortSignal.timeout's reason, a DOMException (not an Error in every runtime).
    const timedOut = (error as { name?: unknown } | null)?.name === "TimeoutError";
    return {
      status: null,
      ok: false,
      durationMs: elapsed(),
      error: timedOut ? "timeout" : "network",
      responseExcerpt: "",
    };
  }
  const read = await readExcerpt(response, Math.max(EXCERPT_BYTES, options.bodyBytes ?? 0));
  const responseExcerpt = decodeUtf8(read.bytes.subarray(0, EXCERPT_BYTES));
  const body =
    options.bodyBytes === undefined
      ? undefined
      : {
          text: decodeUtf8(read.bytes),
          truncated: read.truncated,
          contentType: response.headers.get("content-type"),
        };
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), Date.now());
  const redirected = response.status >= 300 && response.status < 400;
  return {
    status: response.status,
    ok: response.status >= 200 && response.status < 300,
    durationMs: elapsed(),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(redirected ? { error: "redirect" as const } : {}),
    responseExcerpt,
    ...(body === undefined ? {} : { body }),
  };
}

/**
 * The first `limit` bytes of a body (and whether there was more); the rest is cancelled unread.
 * A body that fails midway (the timeout) keeps what came before.
 */
async function readExcerpt(
  response: Response,
  limit: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!response.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = response.body.getReader();
  const excerpt = new Uint8Array(limit);
  let length = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > limit) truncated = true;
      const take = value.subarray(0, limit - length);
      excerpt.set(take, length);
      length += take.length;
      if (truncated) break;
    }
  } catch {
    // The status is what a delivery is judged by; a body cut short only shortens the excerpt.
  } finally {
    reader.cancel().catch(() => {});
  }
  return { bytes: excerpt.subarray(0, length), truncated };
}

/** UTF-8 text; a character cut in two at the end is left out. */
const decodeUtf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes, { stream: true });

/**
 * A `Retry-After` value (RFC 9110 §10.2.3) as whole seconds from `nowMs`: delay-seconds, or an
 * HTTP date (a date past gives 0). Undefined when absent or neither.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  // Date.parse reads all three of RFC 9110's date forms; demand a weekday-name start so that it
  // does not take a bare number or a partial date for one.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, Math.ceil((when - nowMs) / 1000));
}
