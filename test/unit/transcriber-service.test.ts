/**
 * The local transcriber for real (src/transcriber/): `node scripts/transcriber.ts` as
 * `npm run transcriber` starts it, speech made by espeak-ng and encoded by ffmpeg as a browser
 * would, heard by pocketsphinx_batch. Every refusal is the contract's error body with a message
 * a caller can act on, never a stack.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ErrorBody } from "../../src/protocol/errors.ts";
import { WhisperOutput } from "../../src/transcription/whisper.ts";
import { startTranscriber, type RunningTranscriber } from "../support/transcriber.ts";
import {
  BAR_SENTENCE,
  encodeSilence,
  meetsTranscriptBar,
  synthesizeVoice,
} from "../support/voice.ts";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

async function post(url: string, body: unknown, signal?: AbortSignal) {
  const res = await fetch(`${url}/v1/transcribe`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

/** The body of a refusal: the contract's shape, no stack, no file path. */
function refusalOf(answer: { body: unknown }) {
  const parsed = ErrorBody.parse(answer.body);
  expect(parsed.error.message).not.toMatch(/ at |\/tmp\/|node:|edgechat-transcriber-/);
  return parsed.error;
}

// Real ffmpeg and pocketsphinx on a shared two-core machine: a job that takes 0.6 s alone can take
// several seconds under load, so this file waits longer than the unit project's 5 s.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let transcriber: RunningTranscriber;
let jobDirs: string;
let speech: Uint8Array;
beforeAll(async () => {
  // Its own temporary folder, to see that every job's folder is removed.
  jobDirs = await mkdtemp(join(tmpdir(), "transcriber-test-"));
  [transcriber, speech] = await Promise.all([
    startTranscriber({ env: { TMPDIR: jobDirs } }),
    synthesizeVoice(BAR_SENTENCE, { kbps: 16 }),
  ]);
});
afterAll(async () => {
  await transcriber?.stop();
  await rm(jobDirs, { recursive: true, force: true });
});

describe("POST /v1/transcribe", () => {
  it("hears an espeak-ng sentence (Opus 16 kbit/s WebM) and answers Whisper's shape", async () => {
    const answer = await post(transcriber.url, { audio: b64(speech) });
    expect(answer.status).toBe(200);
    const output = WhisperOutput.parse(answer.body);
    expect(meetsTranscriptBar(BAR_SENTENCE, output.text), output.text).toBe(true);
    expect(output.word_count).toBe(output.text.split(" ").length);
    expect(output.transcription_info).toMatchObject({ language: "en" });
    // espeak says it in about 2.3 s.
    expect(output.transcription_info!.duration).toBeGreaterThan(1.5);
    expect(output.transcription_info!.duration).toBeLessThan(3.5);
    const segments = output.segments!;
    expect(segments.map((s) => s.text).join(" ")).toBe(output.text);
    let last = 0;
    for (const segment of segments)
      for (const word of segment.words!) {
        expect(word.start!).toBeGreaterThanOrEqual(last);
        expect(word.end!).toBeGreaterThan(word.start!);
        expect(word.end!).toBeLessThanOrEqual(output.transcription_info!.duration! + 0.01);
        last = word.end!;
      }
  });

  it("gives the same transcript for the same bytes, and for Ogg as for WebM", async () => {
    const ogg = await synthesizeVoice(BAR_SENTENCE, { kbps: 16, container: "ogg" });
    const [a, b, c] = await Promise.all([
      post(transcriber.url, { audio: b64(speech) }),
      post(transcriber.url, { audio: b64(speech), task: "translate", language: "en" }),
      post(transcriber.url, { audio: b64(ogg), vad_filter: true }),
    ]);
    const text = (answer: { body: unknown }) => WhisperOutput.parse(answer.body).text;
    expect(text(b)).toBe(text(a));
    expect(text(c)).toBe(text(a));
  });

  it("answers an empty transcript for silence", async () => {
    const answer = await post(transcriber.url, { audio: b64(await encodeSilence(2)) });
    expect(answer.status).toBe(200);
    const output = WhisperOutput.parse(answer.body);
    expect(output).toMatchObject({ text: "", word_count: 0, segments: [] });
    expect(output.transcription_info!.duration).toBeCloseTo(2, 1);
  });

  it("refuses bytes that are not audio: 415 unsupported_type with ffmpeg's reason", async () => {
    const html = new TextEncoder().encode("<!doctype html><script>alert(1)</script>");
    const answer = await post(transcriber.url, { audio: b64(html) });
    expect(answer.status).toBe(415);
    expect(refusalOf(answer)).toEqual({
      code: "unsupported_type",
      message: "the audio could not be decoded: Invalid data found when processing input",
    });
    // Truncated audio: the container's head is there, the rest is not.
    const cut = await post(transcriber.url, { audio: b64(speech.subarray(0, 40)) });
    expect(cut.status).toBe(415);
    expect(refusalOf(cut).code).toBe("unsupported_type");
  });

  it("refuses a recording longer than a voice message (5 minutes): 413 too_large", async () => {
    const answer = await post(transcriber.url, { audio: b64(await encodeSilence(302)) });
    expect(answer.status).toBe(413);
    expect(refusalOf(answer)).toEqual({
      code: "too_large",
      message: "the recording is longer than 300 s, the longest transcribed",
    });
  });

  it("refuses malformed requests with 400 bad_request naming what is wrong", async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^audio is required/],
      [{ audio: "%%%" }, /^audio: .*base64/],
      [{ audio: b64(speech), task: "summarize" }, /^task: /],
      [{ audio: b64(speech), vad_filter: "yes" }, /^vad_filter: .*boolean/],
      [{ audio: b64(speech), language: "de" }, /only en/],
      ["{not json", /not JSON/],
      ["[]", /JSON object/],
    ];
    for (const [body, message] of cases) {
      const answer = await post(transcriber.url, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const error = refusalOf(answer);
      expect(error.code).toBe("bad_request");
      expect(error.message).toMatch(message);
    }
  });

  it("refuses a body over 16 MiB with 413, and still answers afterwards", async () => {
    const answer = await post(transcriber.url, { audio: "A".repeat(17 * 1024 * 1024) });
    expect(answer.status).toBe(413);
    expect(refusalOf(answer)).toMatchObject({ code: "too_large", message: /16777216/ });
    expect((await fetch(`${transcriber.url}/healthz`)).status).toBe(200);
  });

  it("answers 404 for anything but its two routes", async () => {
    const res = await fetch(`${transcriber.url}/v1/transcribe`);
    expect(res.status).toBe(404);
    expect(refusalOf({ body: await res.json() })).toMatchObject({ code: "not_found" });
  });

  it("leaves no job folder behind, whatever the outcome", async () => {
    expect(await readdir(jobDirs)).toEqual([]);
  });
});

describe("GET /healthz", () => {
  it("says the tools and the model are there", async () => {
    const res = await fetch(`${transcriber.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, engine: "pocketsphinx", running: 0 });
  });

  it("answers 503 naming what is missing, and so does a transcription", async () => {
    const broken = await startTranscriber({
      requireHealthy: false,
      env: {
        TRANSCRIBER_MODEL_DIR: "/nonexistent/en-us",
        TRANSCRIBER_FFMPEG: "/nonexistent/ffmpeg",
      },
    });
    try {
      const res = await fetch(`${broken.url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { missing: string[] };
      expect(refusalOf({ body }).code).toBe("unavailable");
      expect(body.missing).toEqual([
        "/nonexistent/ffmpeg (apt: ffmpeg)",
        "/nonexistent/en-us/en-us (apt: pocketsphinx-en-us)",
        "/nonexistent/en-us/en-us.lm.bin (apt: pocketsphinx-en-us)",
        "/nonexistent/en-us/cmudict-en-us.dict (apt: pocketsphinx-en-us)",
      ]);
      const answer = await post(broken.url, { audio: b64(speech) });
      expect(answer.status).toBe(503);
      expect(refusalOf(answer)).toEqual({
        code: "unavailable",
        message: "/nonexistent/ffmpeg is not installed",
      });
    } finally {
      await broken.stop();
    }
  });
});

describe("load and time limits", () => {
  it("runs one job at a time here, queues one, and refuses the third with 503 and Retry-After", async () => {
    const small = await startTranscriber({
      env: { TRANSCRIBER_JOBS: "1", TRANSCRIBER_QUEUE: "1" },
    });
    try {
      const long = b64(await synthesizeVoice(`${BAR_SENTENCE} `.repeat(12), { kbps: 16 }));
      const first = post(small.url, { audio: long });
      const second = post(small.url, { audio: long });
      // Both are in: one running, one waiting.
      await expect
        .poll(
          async () =>
            ((await (await fetch(`${small.url}/healthz`)).json()) as { waiting: number }).waiting,
          { timeout: 10_000 },
        )
        .toBe(1);
      const third = await post(small.url, { audio: b64(speech) });
      expect(third.status).toBe(503);
      expect(third.headers.get("retry-after")).toBe("5");
      expect(refusalOf(third)).toEqual({
        code: "overloaded",
        message: "the transcriber is busy: try again later",
      });
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
    } finally {
      await small.stop();
    }
  });

  it("stops a job past its time limit: 503 unavailable", async () => {
    const hurried = await startTranscriber({ env: { TRANSCRIBER_TIMEOUT_MS: "150" } });
    try {
      const long = b64(await synthesizeVoice(`${BAR_SENTENCE} `.repeat(6), { kbps: 16 }));
      const answer = await post(hurried.url, { audio: long });
      expect(answer.status).toBe(503);
      expect(refusalOf(answer)).toEqual({
        code: "unavailable",
        message: "the job ran past its limit of 0.15 s and was stopped",
      });
      const health = (await (await fetch(`${hurried.url}/healthz`)).json()) as { running: number };
      expect(health.running).toBe(0);
    } finally {
      await hurried.stop();
    }
  });

  it("kills the job of a caller that left, freeing its slot", async () => {
    const small = await startTranscriber({
      env: { TRANSCRIBER_JOBS: "1", TRANSCRIBER_QUEUE: "0" },
    });
    try {
      const long = b64(await synthesizeVoice(`${BAR_SENTENCE} `.repeat(12), { kbps: 16 }));
      const leave = new AbortController();
      const gone = post(small.url, { audio: long }, leave.signal).catch(() => "left");
      const running = async () =>
        ((await (await fetch(`${small.url}/healthz`)).json()) as { running: number }).running;
      await expect.poll(running, { timeout: 10_000 }).toBe(1);
      leave.abort();
      expect(await gone).toBe("left");
      await expect.poll(running, { timeout: 10_000 }).toBe(0);
      expect((await post(small.url, { audio: b64(speech) })).status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});
