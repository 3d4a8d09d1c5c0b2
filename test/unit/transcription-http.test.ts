/**
 * The worker's HTTP back end (src/transcription/http.ts) against the real local transcriber
 * (`node scripts/transcriber.ts`, pocketsphinx): the transcript it maps, and which failures are
 * worth a retry (TranscriberDown) and which are not (TranscriptionFailed). It runs in workerd in
 * production; here in Node, whose fetch it uses the same way (it has no native toBase64, so the
 * chunked fallback is what runs: the worker test checks the native one).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITS_ATTACHMENTS } from "../../src/protocol/attachments.ts";
import { HttpTranscriber } from "../../src/transcription/http.ts";
import { TranscriberDown, TranscriptionFailed } from "../../src/transcription/transcriber.ts";
import { freePort } from "../support/server.ts";
import { startTranscriber, type RunningTranscriber } from "../support/transcriber.ts";
import { BAR_SENTENCE, meetsTranscriptBar, synthesizeVoice } from "../support/voice.ts";

// Real ffmpeg and pocketsphinx on a shared two-core machine: a job that takes 0.6 s alone can take
// several seconds under load, so this file waits longer than the unit project's 5 s.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let service: RunningTranscriber;
let speech: Uint8Array;
beforeAll(async () => {
  [service, speech] = await Promise.all([
    startTranscriber(),
    synthesizeVoice(BAR_SENTENCE, { kbps: 16 }),
  ]);
});
afterAll(() => service?.stop());

/** A stand-in that answers every request with one status and body: failures on demand. */
async function answering(status: number, body: string, headers: Record<string, string> = {}) {
  const server: Server = createServer((req, res) => {
    req.resume().on("end", () => res.writeHead(status, headers).end(body));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((done) => server.close(() => done())) };
}

describe("HttpTranscriber", () => {
  it("transcribes a voice message through the local service", async () => {
    const transcriber = new HttpTranscriber({ url: service.url });
    expect(transcriber.engine).toBe("pocketsphinx");
    const transcript = await transcriber.transcribe(speech, "audio/webm");
    expect(meetsTranscriptBar(BAR_SENTENCE, transcript.text), transcript.text).toBe(true);
    expect(transcript.language).toBe("en");
    expect(transcript.durationS).toBeGreaterThan(1.5);
    expect(transcript.segments?.length).toBeGreaterThanOrEqual(1);
    expect(transcript.segments!.map((s) => s.text).join(" ")).toBe(transcript.text);
    // The contract's segment: start, end, text, nothing else.
    expect(Object.keys(transcript.segments![0]!).sort()).toEqual(["end", "start", "text"]);
  });

  it("takes a base URL with or without a trailing slash or a path prefix", async () => {
    const slash = new HttpTranscriber({ url: `${service.url}/` });
    expect((await slash.transcribe(speech, "audio/webm")).text).not.toBe("");
    const prefixed = new HttpTranscriber({ url: `${service.url}/nowhere/` });
    // The prefix is kept: the service has no such route, a permanent refusal.
    await expect(prefixed.transcribe(speech, "audio/webm")).rejects.toThrow(
      /answered 404: no route POST \/nowhere\/v1\/transcribe/,
    );
  });

  it("bad audio is a permanent failure, with the service's reason", async () => {
    const transcriber = new HttpTranscriber({ url: service.url });
    const html = new TextEncoder().encode("<html><body>not audio</body></html>");
    const failure = transcriber.transcribe(html, "text/html");
    await expect(failure).rejects.toBeInstanceOf(TranscriptionFailed);
    await expect(failure).rejects.toThrow(
      "the transcriber answered 415: the audio could not be decoded: Invalid data found when processing input",
    );
  });

  it("refuses empty or oversized audio before asking anyone", async () => {
    const nowhere = new HttpTranscriber({ url: "http://127.0.0.1:9" });
    await expect(nowhere.transcribe(new Uint8Array(), "audio/webm")).rejects.toThrow(
      TranscriptionFailed,
    );
    await expect(
      nowhere.transcribe(new Uint8Array(LIMITS_ATTACHMENTS.voiceBytes + 1), "audio/webm"),
    ).rejects.toThrow(/more than a voice message's/);
  });

  it("a service that is not there is down: worth a retry", async () => {
    const transcriber = new HttpTranscriber({ url: `http://127.0.0.1:${await freePort()}` });
    const failure = transcriber.transcribe(speech, "audio/webm");
    await expect(failure).rejects.toBeInstanceOf(TranscriberDown);
    await expect(failure).rejects.toThrow(/did not answer/);
  });

  it("a service too slow for the timeout is down", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((ready) => silent.listen(0, "127.0.0.1", ready));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const transcriber = new HttpTranscriber({ url, timeoutMs: 200 });
      await expect(transcriber.transcribe(speech, "audio/webm")).rejects.toBeInstanceOf(
        TranscriberDown,
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("429 and 5xx are down, with Retry-After when given; other 4xx are permanent", async () => {
    const cases: [number, string, Record<string, string>, unknown, number | undefined][] = [
      [
        503,
        '{"error":{"code":"overloaded","message":"busy"}}',
        { "retry-after": "5" },
        TranscriberDown,
        5,
      ],
      [429, "slow down", {}, TranscriberDown, undefined],
      [500, "<html>oops</html>", {}, TranscriberDown, undefined],
      [
        400,
        '{"error":{"code":"bad_request","message":"audio: bad"}}',
        {},
        TranscriptionFailed,
        undefined,
      ],
      [413, "", {}, TranscriptionFailed, undefined],
    ];
    for (const [status, body, headers, kind, retryAfterS] of cases) {
      const stand = await answering(status, body, headers);
      try {
        const error = await new HttpTranscriber({ url: stand.url })
          .transcribe(speech, "audio/webm")
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error, `${status}`).toBeInstanceOf(kind);
        expect((error as Error).message).toMatch(new RegExp(`^the transcriber answered ${status}`));
        if (kind === TranscriberDown)
          expect((error as TranscriberDown).retryAfterS).toBe(retryAfterS);
      } finally {
        await stand.close();
      }
    }
  });

  it("an answer that is not Whisper's shape is a permanent failure", async () => {
    for (const body of ["not json", '{"txt":"hello"}', '{"text":5}']) {
      const stand = await answering(200, body, { "content-type": "application/json" });
      try {
        await expect(
          new HttpTranscriber({ url: stand.url }).transcribe(speech, "audio/webm"),
        ).rejects.toThrow(
          new TranscriptionFailed("the transcriber answered something that is not a transcript"),
        );
      } finally {
        await stand.close();
      }
    }
  });
});
