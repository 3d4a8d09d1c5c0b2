import { ApiError, type Upload } from "../protocol/index.ts";

/**
 * The pure rules of an upload (docs/attachments.md, "The SDK"): how a file splits into parts,
 * which parts still need sending after a dropped connection, and which failures are worth
 * another try. uploads-api.ts runs them against the server.
 */

/** One part of a file: its 1-based number and its byte range [start, end). */
export type PartSlice = { readonly part: number; readonly start: number; readonly end: number };

/**
 * The parts of a file of `size` bytes: every part `partBytes` long but the last, which holds the
 * rest (R2's rule: all parts but the last the same size, the last no larger).
 * @example planParts(12, 5) // [{part:1,start:0,end:5},{part:2,start:5,end:10},{part:3,start:10,end:12}]
 */
export function planParts(size: number, partBytes: number): PartSlice[] {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError("a file has at least one byte");
  if (!Number.isInteger(partBytes) || partBytes <= 0) throw new RangeError("a part has bytes");
  const parts: PartSlice[] = [];
  for (let start = 0, part = 1; start < size; start += partBytes, part += 1)
    parts.push({ part, start, end: Math.min(size, start + partBytes) });
  return parts;
}

/** The parts of `plan` the server has not got (`received`, as the upload's status says), in order. */
export function partsToSend(plan: readonly PartSlice[], received: readonly number[]): PartSlice[] {
  const stored = new Set(received);
  return plan.filter(({ part }) => !stored.has(part));
}

/**
 * What to do after a call of the upload failed: `retry` it (after a backoff, asking the server
 * what it has first), or `fail` with the error. A dropped connection (fetch's TypeError), a 5xx
 * and a 429 are passing; the contract's refusals (too_large, unsupported_type, quota, forbidden,
 * …) and the caller's abort are not, and neither is anything once `attempt` reaches `maxAttempts`.
 */
export function afterFailure(
  error: unknown,
  attempt: number,
  maxAttempts: number,
): "retry" | "fail" {
  if (attempt + 1 >= maxAttempts) return "fail";
  return isPassing(error) ? "retry" : "fail";
}

/** A failure that another try may not meet: the network, the server's trouble, its "slow down". */
export function isPassing(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 429;
  // fetch rejects with a TypeError when the connection fails or drops; an abort is a DOMException.
  return error instanceof TypeError;
}

/** How many bytes of the file the server holds, for progress after a resume. */
export function bytesStored(plan: readonly PartSlice[], received: readonly number[]): number {
  const stored = new Set(received);
  return plan.reduce(
    (sum, slice) => sum + (stored.has(slice.part) ? slice.end - slice.start : 0),
    0,
  );
}

/** Whether the upload has every part of `plan` (it may be completed). */
export function allReceived(plan: readonly PartSlice[], upload: Pick<Upload, "received">): boolean {
  return partsToSend(plan, upload.received).length === 0;
}
