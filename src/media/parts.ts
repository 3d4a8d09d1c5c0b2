import { LIMITS_ATTACHMENTS } from "../protocol/attachments.ts";
import type { Result } from "../protocol/index.ts";

/**
 * How a file of `size` bytes is cut into parts (docs/attachments.md, "Limits"): every part but
 * the last is exactly `partBytes` (R2's multipart minimum, which R2 enforces), the last is the
 * rest. Part numbers start at 1, as R2's do.
 */

/** How many parts a file of `size` bytes takes. */
export const partCount = (size: number, partBytes = LIMITS_ATTACHMENTS.partBytes): number =>
  Math.max(1, Math.ceil(size / partBytes));

/** The exact size part `part` (1-based) must have; undefined for a part the file does not have. */
export function partSize(
  size: number,
  part: number,
  partBytes = LIMITS_ATTACHMENTS.partBytes,
): number | undefined {
  const parts = partCount(size, partBytes);
  if (!Number.isInteger(part) || part < 1 || part > parts) return undefined;
  return part < parts ? partBytes : size - (parts - 1) * partBytes;
}

/** Whether every part of the file is in `received` (part numbers, any order, repeats allowed). */
export function allPartsIn(
  size: number,
  received: Iterable<number>,
  partBytes = LIMITS_ATTACHMENTS.partBytes,
): boolean {
  return missingParts(size, received, partBytes).length === 0;
}

/** The part numbers not yet in `received`, ascending. */
export function missingParts(
  size: number,
  received: Iterable<number>,
  partBytes = LIMITS_ATTACHMENTS.partBytes,
): number[] {
  const have = new Set(received);
  const missing: number[] = [];
  for (let part = 1; part <= partCount(size, partBytes); part++)
    if (!have.has(part)) missing.push(part);
  return missing;
}

/**
 * A part's size as its request's Content-Length declares it, checked before a byte is read:
 * required (R2 takes only a body of known length, and the size is checked against the part's),
 * a plain number, at most `partBytes`.
 */
export function declaredPartBytes(header: string | undefined | null): Result<number> {
  if (header === undefined || header === null)
    return refused("bad_request", "Content-Length is required: send the part's bytes whole");
  if (!/^\d{1,16}$/.test(header.trim()))
    return refused("bad_request", "Content-Length is a number of bytes");
  const bytes = Number(header.trim());
  if (bytes > LIMITS_ATTACHMENTS.partBytes)
    return refused("too_large", `a part is at most ${LIMITS_ATTACHMENTS.partBytes} bytes`);
  return { ok: true, value: bytes };
}

const refused = (code: "bad_request" | "too_large", message: string) =>
  ({ ok: false, error: { code, message } }) as const;
