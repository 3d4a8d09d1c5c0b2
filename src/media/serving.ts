import type { Attachment } from "../protocol/attachments.ts";
import { INLINE_TYPES } from "./sniff.ts";

/**
 * The headers and ranges of serving a user's file (docs/attachments.md, "Serving files"): never
 * rendered as a page of the UI's origin, whatever its bytes.
 */

/** Replaces the app's CSP on a file: nothing loads, scripts never run, even if it renders. */
export const FILE_CSP = "default-src 'none'; sandbox";

/** RFC 5987's attr-char, the characters `filename*` may carry unencoded. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

/** `name` percent-encoded as UTF-8 for `filename*=UTF-8''…` (RFC 5987, RFC 6266). */
export function encodeRfc5987(name: string): string {
  let out = "";
  for (const char of name) {
    if (ATTR_CHAR.test(char)) out += char;
    else
      for (const byte of new TextEncoder().encode(char))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The name for old clients that ignore `filename*`: printable ASCII only, every other character
 * (and `"`, `\`, `%`, `/`, which a quoted string, a decoder or a path could read otherwise) an
 * underscore.
 */
export function asciiFallback(name: string): string {
  const ascii = [...name].map((c) => (/^[\x20-\x7e]$/.test(c) && !/["\\%/]/.test(c) ? c : "_"));
  return ascii.join("").trim() || "file";
}

/** `inline` for the accepted images and audio, `attachment` (a download) for everything else. */
export function contentDisposition(name: string, inline: boolean): string {
  const disposition = inline ? "inline" : "attachment";
  return `${disposition}; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** Whether a posted file is shown in place: voice and images of the accepted types, never a `file`. */
export const servedInline = (attachment: Pick<Attachment, "kind" | "type">): boolean =>
  attachment.kind !== "file" && INLINE_TYPES.has(attachment.type);

/** Every header a file is served with, but its length and range. */
export function servingHeaders(
  attachment: Pick<Attachment, "kind" | "type" | "name">,
  etag: string,
): Headers {
  return new Headers({
    "content-type": attachment.type,
    "content-disposition": contentDisposition(attachment.name, servedInline(attachment)),
    "x-content-type-options": "nosniff",
    "content-security-policy": FILE_CSP,
    "cross-origin-resource-policy": "same-origin",
    // An attachment's bytes never change under its id: cache for a year, privately.
    "cache-control": "private, max-age=31536000, immutable",
    "accept-ranges": "bytes",
    etag,
  });
}

/** A request's `Range`, resolved against the object's size. */
export type RangeAsk =
  /** No range, or one we ignore (several ranges, bad syntax, other units): the whole file, 200. */
  | { kind: "whole" }
  /** One satisfiable range, as R2 takes it: 206. */
  | { kind: "part"; offset: number; length: number }
  /** A range past the end: 416. */
  | { kind: "unsatisfiable" };

const BYTE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * A `Range` header (RFC 9110 §14.2) for a file of `size` bytes: one range of `bytes`, `a-b`,
 * `a-` or `-n` (the last n bytes). A server may ignore a range it does not take (several, or
 * malformed), and then serves the whole file.
 */
export function parseRange(header: string | null | undefined, size: number): RangeAsk {
  const match = header && BYTE_RANGE.exec(header.trim());
  if (!match) return { kind: "whole" };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "part", offset: size - length, length };
  }
  const offset = Number(first);
  if (last !== "" && Number(last) < offset) return { kind: "whole" };
  if (offset >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "part", offset, length: end - offset + 1 };
}

/** `Content-Range` of a 206, or of a 416 (no range given: an asterisk in its place). */
export const contentRange = (size: number, range?: { offset: number; length: number }): string =>
  range ? `bytes ${range.offset}-${range.offset + range.length - 1}/${size}` : `bytes */${size}`;

/**
 * Whether `If-None-Match` names `etag` (RFC 9110 §13.1.2: weak comparison, `*` for any): then
 * the answer is 304 without a body.
 */
export function etagMatches(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}
