/**
 * The pure rules of attachments (src/media, docs/attachments.md): parts, the type read from the
 * bytes (real files: Chromium's MediaRecorder WebM, ffmpeg's Ogg/Opus, m4a, mp3; images; markup
 * in disguise), the serving headers, ranges and ETags, and the decisions of an upload session.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LIMITS_ATTACHMENTS, type NewUpload } from "../../src/protocol/attachments.ts";
import {
  allPartsIn,
  declaredPartBytes,
  missingParts,
  partCount,
  partSize,
} from "../../src/media/parts.ts";
import { markupOf, sniffType } from "../../src/media/sniff.ts";
import {
  asciiFallback,
  contentDisposition,
  contentRange,
  encodeRfc5987,
  etagMatches,
  parseRange,
  servedInline,
  servingHeaders,
} from "../../src/media/serving.ts";
import {
  completeRefusal,
  openRefusal,
  partRefusal,
  postableAttachment,
  uploadOf,
  type UploadRecord,
} from "../../src/media/upload-rules.ts";
import { objectKey } from "../../src/media/keys.ts";

const MiB = 1024 * 1024;
const P = LIMITS_ATTACHMENTS.partBytes;
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url)));
const text = (s: string) => new TextEncoder().encode(s);

/** A WAV header (RIFF, WAVE, fmt, data) and a little silence: what espeak-ng writes. */
function wav(): Uint8Array {
  const bytes = new Uint8Array(44 + 64);
  const view = new DataView(bytes.buffer);
  bytes.set(text("RIFF"), 0);
  view.setUint32(4, 36 + 64, true);
  bytes.set(text("WAVEfmt "), 8);
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, 22050, true);
  view.setUint32(28, 44100, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  bytes.set(text("data"), 36);
  view.setUint32(40, 64, true);
  return bytes;
}

describe("parts", () => {
  it("cuts a file into parts of exactly partBytes, the last the rest", () => {
    expect(P).toBe(5 * MiB);
    expect(partCount(1)).toBe(1);
    expect(partCount(P)).toBe(1);
    expect(partCount(P + 1)).toBe(2);
    expect(partCount(12 * MiB)).toBe(3);
    expect([1, 2, 3].map((n) => partSize(12 * MiB, n))).toEqual([P, P, 2 * MiB]);
    expect(partSize(P, 1)).toBe(P);
    expect(partSize(10, 1)).toBe(10);
  });

  it("has no part 0, no part past the last, no fractional part", () => {
    for (const part of [0, -1, 4, 1.5, Number.NaN])
      expect(partSize(12 * MiB, part)).toBeUndefined();
  });

  it("knows when every part is in, in any order, repeats and all", () => {
    expect(allPartsIn(12 * MiB, [3, 1])).toBe(false);
    expect(missingParts(12 * MiB, [3, 1])).toEqual([2]);
    expect(allPartsIn(12 * MiB, [2, 3, 2, 1])).toBe(true);
    expect(missingParts(12 * MiB, [])).toEqual([1, 2, 3]);
  });

  it("takes a part's Content-Length only when given, a number, and at most partBytes", () => {
    expect(declaredPartBytes("5242880")).toEqual({ ok: true, value: P });
    expect(declaredPartBytes(" 0 ")).toEqual({ ok: true, value: 0 });
    const missing = declaredPartBytes(undefined);
    expect(missing).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(!missing.ok && missing.error.message).toMatch(/Content-Length is required/);
    for (const header of ["", "-1", "5x", "1e3", "0x10", "1.5", "12345678901234567"])
      expect(declaredPartBytes(header)).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
      });
    for (const header of ["5242881", "99999999999999"])
      expect(declaredPartBytes(header)).toMatchObject({ ok: false, error: { code: "too_large" } });
  });

  it("keys an object by room and id", () => {
    expect(objectKey("lobby", "AAAAAAAAAAAAAAAAAAAAAA")).toBe("r/lobby/AAAAAAAAAAAAAAAAAAAAAA");
  });
});

describe("the type read from the bytes", () => {
  const ok = (value: string) => ({ ok: true, value });
  const refused = { ok: false, error: { code: "unsupported_type" } };

  it("takes voice as audio: Chromium's WebM as audio/webm, Ogg/Opus, m4a, mp3, WAV", async () => {
    expect(await sniffType("voice", fixture("voice-chrome.webm"))).toEqual(ok("audio/webm"));
    expect(await sniffType("voice", fixture("voice.ogg"))).toEqual(ok("audio/ogg"));
    expect(await sniffType("voice", fixture("voice.m4a"))).toEqual(ok("audio/mp4"));
    expect(await sniffType("voice", fixture("voice.mp3"))).toEqual(ok("audio/mpeg"));
    expect(await sniffType("voice", wav())).toEqual(ok("audio/wav"));
  });

  it("refuses voice that is not audio, saying what the bytes are", async () => {
    const png = await sniffType("voice", fixture("img.png"));
    expect(png).toMatchObject(refused);
    expect(!png.ok && png.error.message).toMatch(/these bytes are image\/png/);
    const notes = await sniffType("voice", text("just some notes\n"));
    expect(!notes.ok && notes.error.message).toMatch(/of no type we know/);
  });

  it("takes the four image types, and nothing else as an image", async () => {
    expect(await sniffType("image", fixture("img.png"))).toEqual(ok("image/png"));
    expect(await sniffType("image", fixture("img.jpg"))).toEqual(ok("image/jpeg"));
    expect(await sniffType("image", fixture("img.gif"))).toEqual(ok("image/gif"));
    expect(await sniffType("image", fixture("img.webp"))).toEqual(ok("image/webp"));
    const pdf = await sniffType("image", fixture("doc.pdf"));
    expect(pdf).toMatchObject(refused);
    expect(!pdf.ok && pdf.error.message).toMatch(/application\/pdf/);
    expect(await sniffType("image", fixture("voice-chrome.webm"))).toMatchObject(refused);
  });

  it("takes any file but markup; unknown bytes are application/octet-stream", async () => {
    expect(await sniffType("file", fixture("doc.pdf"))).toEqual(ok("application/pdf"));
    expect(await sniffType("file", fixture("a.zip"))).toEqual(ok("application/zip"));
    expect(await sniffType("file", text("just some notes\n"))).toEqual(
      ok("application/octet-stream"),
    );
    expect(await sniffType("file", fixture("img.png"))).toEqual(ok("image/png"));
  });

  it("accepts the GIF polyglot as an image: the serving headers are what protect", async () => {
    expect(await sniffType("image", text("GIF89a<script>alert(1)</script>"))).toEqual(
      ok("image/gif"),
    );
  });

  it("refuses HTML (named .png or not), SVG and XML for every kind", async () => {
    const html = text("<!doctype html><html><body><script>alert(1)</script></body></html>\n");
    const svg = text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    for (const kind of ["voice", "image", "file"] as const) {
      const asHtml = await sniffType(kind, html);
      expect(asHtml).toMatchObject(refused);
      expect(!asHtml.ok && asHtml.error.message).toMatch(/these bytes are HTML/);
      const asSvg = await sniffType(kind, svg);
      expect(!asSvg.ok && asSvg.error.message).toMatch(/these bytes are SVG/);
      expect(await sniffType(kind, text('<?xml version="1.0"?><a/>'))).toMatchObject(refused);
    }
  });

  it("finds markup after a byte order mark and whitespace, in any case, in UTF-16 too", () => {
    expect(markupOf(text("\ufeff \n\t<HTML>"))).toBe("HTML");
    expect(markupOf(text("<ScRiPt>alert(1)</script>"))).toBe("HTML");
    expect(markupOf(text("<!-- a comment -->"))).toBe("HTML");
    expect(markupOf(text("<p>hello"))).toBe("HTML");
    expect(markupOf(text("<b/>"))).toBe("HTML");
    expect(markupOf(text("  <svg\nviewBox='0 0 1 1'>"))).toBe("SVG");
    expect(markupOf(text("<?xml version='1.0'?>"))).toBe("XML");
    const utf16le = new Uint8Array([
      0xff,
      0xfe,
      ...[..."<html>"].flatMap((c) => [c.charCodeAt(0), 0]),
    ]);
    expect(markupOf(utf16le)).toBe("HTML");
    const utf16be = new Uint8Array([
      0xfe,
      0xff,
      ...[..."<svg>"].flatMap((c) => [0, c.charCodeAt(0)]),
    ]);
    expect(markupOf(utf16be)).toBe("SVG");
  });

  it("does not take text that merely contains markup, or a tag-like word, for markup", () => {
    expect(markupOf(text("notes: <script> is a tag"))).toBeUndefined();
    expect(markupOf(text("<pre-release notes>"))).toBeUndefined();
    expect(markupOf(text("<bold>"))).toBeUndefined();
    expect(markupOf(fixture("img.png"))).toBeUndefined();
  });
});

describe("serving headers", () => {
  it("encodes a name with quotes, non-ASCII and CR/LF safely in both forms", () => {
    const name = 'a "quoted"\r\nname ünïcødé 🎤.webm';
    const header = contentDisposition(name, false);
    expect(header).toBe(
      `attachment; filename="a _quoted___name _n_c_d_ _.webm"; filename*=UTF-8''a%20%22quoted%22%0D%0Aname%20%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%F0%9F%8E%A4.webm`,
    );
    expect(header).not.toMatch(/[\r\n]/);
    expect(decodeURIComponent(header.split("UTF-8''")[1]!)).toBe(name);
  });

  it("percent-encodes RFC 5987's non-attr-chars, such as ' ( ) * % ; and /", () => {
    expect(encodeRfc5987("it's (a) *file*; 100%/x")).toBe(
      "it%27s%20%28a%29%20%2Afile%2A%3B%20100%25%2Fx",
    );
    expect(encodeRfc5987("plain-name_1.txt")).toBe("plain-name_1.txt");
    expect(asciiFallback("../\\etc%")).toBe("..__etc_");
    expect(asciiFallback("日本")).toBe("__");
    expect(asciiFallback("   ")).toBe("file");
  });

  it("serves inline only voice and images of the accepted types; a file is always a download", () => {
    expect(servedInline({ kind: "image", type: "image/png" })).toBe(true);
    expect(servedInline({ kind: "voice", type: "audio/webm" })).toBe(true);
    expect(servedInline({ kind: "file", type: "image/png" })).toBe(false);
    expect(servedInline({ kind: "image", type: "image/svg+xml" })).toBe(false);
    expect(servedInline({ kind: "file", type: "text/html" })).toBe(false);
  });

  it("sends nosniff, the sandbox CSP, CORP, a private immutable cache and the ETag", () => {
    const headers = servingHeaders(
      { kind: "image", type: "image/gif", name: "cat.gif" },
      '"AAAAAAAAAAAAAAAAAAAAAA"',
    );
    expect(Object.fromEntries(headers)).toEqual({
      "content-type": "image/gif",
      "content-disposition": `inline; filename="cat.gif"; filename*=UTF-8''cat.gif`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "private, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      etag: '"AAAAAAAAAAAAAAAAAAAAAA"',
    });
  });
});

describe("ranges", () => {
  const size = 1000;
  it("takes one range of bytes: a-b, a-, -n", () => {
    expect(parseRange("bytes=0-4", size)).toEqual({ kind: "part", offset: 0, length: 5 });
    expect(parseRange("bytes=0-", size)).toEqual({ kind: "part", offset: 0, length: 1000 });
    expect(parseRange("bytes=990-", size)).toEqual({ kind: "part", offset: 990, length: 10 });
    expect(parseRange("bytes=-6", size)).toEqual({ kind: "part", offset: 994, length: 6 });
    expect(parseRange(" bytes=999-999 ", size)).toEqual({ kind: "part", offset: 999, length: 1 });
  });

  it("clamps an end past the file, and a suffix longer than it", () => {
    expect(parseRange("bytes=500-5000", size)).toEqual({ kind: "part", offset: 500, length: 500 });
    expect(parseRange("bytes=-5000", size)).toEqual({ kind: "part", offset: 0, length: 1000 });
  });

  it("is unsatisfiable from past the end, or for an empty suffix", () => {
    expect(parseRange("bytes=1000-", size)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=1000-2000", size)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", size)).toEqual({ kind: "unsatisfiable" });
  });

  it("ignores what it does not take: several ranges, other units, bad syntax, a-b with b < a", () => {
    for (const header of [
      undefined,
      "",
      "bytes=0-1,5-6",
      "items=0-1",
      "bytes=-",
      "bytes=a-b",
      "bytes=5-1",
      "bytes=1-2-3",
    ])
      expect(parseRange(header, size)).toEqual({ kind: "whole" });
  });

  it("writes Content-Range for a 206 and a 416", () => {
    expect(contentRange(1000, { offset: 994, length: 6 })).toBe("bytes 994-999/1000");
    expect(contentRange(1000)).toBe("bytes */1000");
  });

  it("matches If-None-Match weakly, in a list, or *", () => {
    const etag = '"abc"';
    expect(etagMatches('"abc"', etag)).toBe(true);
    expect(etagMatches('W/"abc"', etag)).toBe(true);
    expect(etagMatches('"x", "abc"', etag)).toBe(true);
    expect(etagMatches("*", etag)).toBe(true);
    expect(etagMatches('"abcd"', etag)).toBe(false);
    expect(etagMatches(undefined, etag)).toBe(false);
  });
});

describe("an upload session's decisions", () => {
  const NOW = 1_800_000_000_000;
  const upload = (extra: Partial<UploadRecord> = {}): UploadRecord => ({
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    uploaderId: "u_ada",
    kind: "file",
    name: "big.bin",
    size: 12 * MiB,
    state: "open",
    received: [],
    expiresAt: NOW,
    ...extra,
  });
  const input = (extra: Partial<NewUpload> = {}): NewUpload => ({
    kind: "file",
    name: "f.bin",
    size: 10,
    ...extra,
  });

  it("opens within the kind's size and the pending quota", () => {
    expect(openRefusal(input(), 0)).toBeUndefined();
    expect(openRefusal(input({ size: 100 * MiB }), 19)).toBeUndefined();
    expect(openRefusal(input({ size: 100 * MiB + 1 }), 0)).toMatchObject({ code: "too_large" });
    expect(openRefusal(input({ kind: "image", size: 25 * MiB + 1 }), 0)).toMatchObject({
      code: "too_large",
    });
    expect(
      openRefusal(input({ kind: "voice", size: 10 * MiB + 1, durationMs: 1 }), 0),
    ).toMatchObject({ code: "too_large" });
    expect(openRefusal(input(), 20)).toMatchObject({ code: "quota" });
  });

  it("takes a part of exactly its size, numbered within the file, while open", () => {
    expect(partRefusal(upload(), 1, P)).toBeUndefined();
    expect(partRefusal(upload(), 3, 2 * MiB)).toBeUndefined();
    expect(partRefusal(upload(), 1, P + 1)).toMatchObject({ code: "too_large" });
    expect(partRefusal(upload(), 1, P - 1)).toMatchObject({ code: "bad_request" });
    expect(partRefusal(upload(), 3, P)).toMatchObject({ code: "too_large" });
    expect(partRefusal(upload(), 4, 1)).toMatchObject({ code: "bad_request" });
    expect(partRefusal(upload(), 0, 1)).toMatchObject({ code: "bad_request" });
    expect(partRefusal(upload({ state: "complete" }), 1, P)).toMatchObject({ code: "conflict" });
  });

  it("completes once every part is in, and its type is known", () => {
    const typed = { type: "application/octet-stream" };
    expect(completeRefusal(upload({ ...typed, received: [1, 3] }))).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/lacks parts 2$/),
    });
    expect(completeRefusal(upload({ ...typed, received: [3, 1, 2] }))).toBeUndefined();
    expect(completeRefusal(upload({ received: [1, 2, 3] }))).toMatchObject({ code: "bad_request" });
    expect(completeRefusal(upload({ ...typed, state: "posted" }))).toMatchObject({
      code: "conflict",
    });
  });

  it("is postable by its uploader only, complete and unposted", () => {
    const complete = upload({ state: "complete", type: "application/zip", received: [1, 2, 3] });
    expect(postableAttachment(complete, "u_ada")).toEqual({
      id: complete.id,
      kind: "file",
      name: "big.bin",
      type: "application/zip",
      size: 12 * MiB,
    });
    expect(postableAttachment(complete, "u_bob")).toBeUndefined();
    expect(postableAttachment({ ...complete, state: "open" }, "u_ada")).toBeUndefined();
    expect(postableAttachment({ ...complete, state: "posted" }, "u_ada")).toBeUndefined();
    expect(postableAttachment(undefined, "u_ada")).toBeUndefined();
  });

  it("shows its uploader the parts in, ascending and once each", () => {
    expect(uploadOf(upload({ received: [3, 1, 3] }))).toEqual({
      id: "AAAAAAAAAAAAAAAAAAAAAA",
      kind: "file",
      name: "big.bin",
      size: 12 * MiB,
      partBytes: P,
      parts: 3,
      received: [1, 3],
      state: "open",
      expiresAt: NOW,
    });
  });
});
