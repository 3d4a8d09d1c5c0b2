import { fileTypeFromBuffer } from "file-type";
import type { AttachmentKind } from "../protocol/attachments.ts";
import type { Result } from "../protocol/index.ts";

/** Bytes read from the start of a file: file-type's own detection window. */
export const SNIFF_BYTES = 4100;

/**
 * What the voice kind accepts, as file-type names it → the type it is served as. An audio-only
 * WebM or MP4 is not told apart from a video one (Chromium's MediaRecorder WebM reads as
 * `video/webm`), so for voice they are audio.
 */
const VOICE_TYPES: Readonly<Record<string, string>> = {
  "video/webm": "audio/webm",
  "audio/webm": "audio/webm",
  "audio/ogg": "audio/ogg",
  "audio/ogg; codecs=opus": "audio/ogg",
  "audio/opus": "audio/ogg",
  "audio/x-m4a": "audio/mp4",
  "audio/mp4": "audio/mp4",
  "video/mp4": "audio/mp4",
  "audio/mpeg": "audio/mpeg",
  "audio/wav": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/x-wav": "audio/wav",
};

const IMAGE_TYPES: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

/** The types served inline (docs/attachments.md, "Serving files"): what voice and image accept. */
export const INLINE_TYPES: ReadonlySet<string> = new Set([
  ...Object.values(VOICE_TYPES),
  ...IMAGE_TYPES,
]);

/** file-type's names for markup: refused for every kind, as our own check's findings are. */
const MARKUP_TYPES: Readonly<Record<string, string>> = {
  "application/xml": "XML",
  "image/svg+xml": "SVG",
  "text/html": "HTML",
};

/**
 * The HTML tags of WHATWG MIME Sniffing ("rules for identifying an unknown MIME type"), each
 * followed by a tag-terminating byte (we also count `/` and any whitespace: stricter than the
 * spec, which takes space and `>` only), plus `<!--`; then SVG and XML, which file-type does not
 * detect either.
 */
const HTML_START =
  /^(?:<!doctype html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|<style|<title|<b|<body|<br|<p)[\s>/]|^<!--/;
const SVG_START = /^<svg[\s>/]/;
const XML_START = /^<\?xml/;

/**
 * What markup the file starts with, if any: after an optional byte order mark (UTF-8, or UTF-16
 * in either order, which a browser honours) and whitespace, case-insensitively.
 */
export function markupOf(bytes: Uint8Array): "HTML" | "SVG" | "XML" | undefined {
  const head = bytes.subarray(0, 1024);
  const encoding =
    head[0] === 0xfe && head[1] === 0xff
      ? "utf-16be"
      : head[0] === 0xff && head[1] === 0xfe
        ? "utf-16le"
        : "utf-8";
  const text = new TextDecoder(encoding)
    .decode(head)
    .replace(/^[\ufeff\t\n\f\r ]+/, "")
    .toLowerCase();
  if (HTML_START.test(text)) return "HTML";
  if (SVG_START.test(text)) return "SVG";
  if (XML_START.test(text)) return "XML";
  return undefined;
}

const unsupported = (message: string) =>
  ({ ok: false, error: { code: "unsupported_type", message } }) as const;

/**
 * The media type of a file of `kind` from its first bytes (`SNIFF_BYTES` are enough), never
 * from its name: `voice` takes audio (WebM, Ogg, MP4, MP3, WAV), `image` PNG, JPEG, GIF or WebP,
 * `file` anything but markup (`application/octet-stream` when the bytes say nothing). Refused
 * with `unsupported_type`, saying what the bytes are.
 */
export async function sniffType(kind: AttachmentKind, bytes: Uint8Array): Promise<Result<string>> {
  const markup = markupOf(bytes);
  const detected = markup ? undefined : await fileTypeFromBuffer(bytes.subarray(0, SNIFF_BYTES));
  const markupName = markup ?? (detected && MARKUP_TYPES[detected.mime]);
  if (markupName)
    return unsupported(`these bytes are ${markupName}: markup is never accepted, in any kind`);
  const what = detected ? detected.mime : "of no type we know";
  switch (kind) {
    case "voice": {
      const type = detected && VOICE_TYPES[detected.mime];
      return type
        ? { ok: true, value: type }
        : unsupported(
            `a voice message is audio (WebM, Ogg, MP4, MP3 or WAV); these bytes are ${what}`,
          );
    }
    case "image":
      return detected && IMAGE_TYPES.has(detected.mime)
        ? { ok: true, value: detected.mime }
        : unsupported(`an image is PNG, JPEG, GIF or WebP; these bytes are ${what}`);
    case "file":
      return { ok: true, value: detected?.mime ?? "application/octet-stream" };
  }
}
