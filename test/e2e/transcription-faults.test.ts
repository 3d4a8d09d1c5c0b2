/**
 * The room's transcription queue against a transcriber that misbehaves (docs/attachments.md,
 * "Transcription"): the real worker (wrangler dev) with TRANSCRIBER_URL pointing at a small HTTP
 * server of this test, which answers each recording as the test says. An answer that is not JSON
 * and a 400 are given up at once (asked once, never again); a message deleted while its audio
 * was being heard gets no transcript; a 503 is retried, and the transcript is logged once; a
 * recording heard far longer than its uploader said keeps its transcript and is logged as a warning.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RoomEvent } from "../../src/protocol/index.ts";
import { freePort } from "../support/server.ts";
import { freshRoom, guest, useServer, waitUntil, type Guest, type TestServer } from "./helpers.ts";

type Behaviour =
  | "not-json"
  | "refuse"
  | "503-once"
  /** Answers a transcript of 10 minutes: far longer than the 1.2 s its uploader said. */
  | "long"
  /** Holds its answer until `release` is called, then answers a transcript. */
  | "hold";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url)));
const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Each recording of this test, told apart by its bytes: what the fake transcriber does with it. */
const recordings: Record<Behaviour, Uint8Array<ArrayBuffer>> = {
  "not-json": fixture("voice.ogg"),
  refuse: fixture("voice.mp3"),
  "503-once": fixture("voice-chrome.webm"),
  hold: fixture("voice.m4a"),
  // Other bytes, the same type: Ogg with a byte more at its end.
  long: new Uint8Array([...fixture("voice.ogg"), 0]),
};
const behaviourOf = new Map(
  Object.entries(recordings).map(([behaviour, bytes]) => [digest(bytes), behaviour as Behaviour]),
);

const WHISPER_ANSWER = JSON.stringify({
  text: " hello there",
  segments: [{ start: 0, end: 1.1, text: " hello there" }],
  transcription_info: { language: "en", duration: 1.2 },
});

/** Requests the fake transcriber got, per behaviour. */
const asked = new Map<Behaviour, number>();
let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => (release = resolve));

let fake: Server;
const fakePort = await freePort();
let server: TestServer;

useServer(
  async (started) => {
    server = started;
  },
  { vars: { TRANSCRIBER_URL: `http://127.0.0.1:${fakePort}` }, logLevel: "log" },
);

/** What the worker printed (its JSON lines, out of wrangler's decoration of warnings). */
const printed: string[] = [];
const workerLogs = () =>
  printed
    .flatMap((chunk) => chunk.split("\n"))
    .map((line) => /\{"level".*\}/.exec(line)?.[0])
    .filter((json) => json !== undefined)
    .map((json) => JSON.parse(json) as Record<string, unknown>);

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(" "));
    });
  fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const { audio } = JSON.parse(Buffer.concat(chunks).toString()) as { audio: string };
      const behaviour = behaviourOf.get(digest(Buffer.from(audio, "base64")));
      if (!behaviour) return res.writeHead(400).end('{"error":{"message":"unknown audio"}}');
      const times = (asked.get(behaviour) ?? 0) + 1;
      asked.set(behaviour, times);
      const json = { "content-type": "application/json" };
      if (behaviour === "not-json") return res.writeHead(200, json).end("<html>proxy page</html>");
      if (behaviour === "refuse")
        return res.writeHead(400, json).end('{"error":{"code":"bad_request","message":"no"}}');
      if (behaviour === "503-once" && times === 1)
        return res.writeHead(503, json).end('{"error":{"code":"unavailable","message":"busy"}}');
      if (behaviour === "hold") await released;
      if (behaviour === "long")
        return res
          .writeHead(200, json)
          .end(JSON.stringify({ text: "on and on", transcription_info: { duration: 600 } }));
      res.writeHead(200, json).end(WHISPER_ANSWER);
    });
  });
  await new Promise<void>((resolve) => fake.listen(fakePort, "127.0.0.1", resolve));
});
afterAll(() => {
  vi.restoreAllMocks();
  release();
  fake?.closeAllConnections();
  fake?.close();
});

/** ada posts `behaviour`'s recording as a voice message in a room of her own. */
async function postVoice(behaviour: Behaviour) {
  const ada: Guest = await guest(server.url, "ada");
  const room = await freshRoom(ada, "heard");
  const attachment = await ada.api.upload(room, new Blob([recordings[behaviour]]), {
    kind: "voice",
    name: "voice",
    durationMs: 1200,
  });
  const { seq } = await ada.api.command(room, {
    type: "post",
    clientId: crypto.randomUUID(),
    attachments: [attachment.id],
  });
  return { ada, room, seq, attachmentId: attachment.id };
}

const transcriptsIn = async (ada: Guest, room: string) =>
  (await ada.api.events(room, 0, 1000)).events.filter(
    (e: RoomEvent) => e.type === "message.transcribed",
  );

/** Longer than the first retry's wait (5 s): a row retried would have been asked again by then. */
const pastFirstRetry = () => new Promise((resolve) => setTimeout(resolve, 8000));

describe("a transcriber that misbehaves", () => {
  it("answering something that is not JSON, or a 400: asked once, given up, no transcript", async () => {
    const posted = await Promise.all([postVoice("not-json"), postVoice("refuse")]);
    await waitUntil(() => asked.get("not-json") === 1 && asked.get("refuse") === 1, "both asked");
    await pastFirstRetry();
    expect(asked.get("not-json")).toBe(1);
    expect(asked.get("refuse")).toBe(1);
    for (const { ada, room } of posted) expect(await transcriptsIn(ada, room)).toEqual([]);
  }, 60_000);

  it("down (503) at first: retried, and the transcript is logged once", async () => {
    const { ada, room, seq, attachmentId } = await postVoice("503-once");
    const logged = await waitUntil(
      async () => {
        const found = await transcriptsIn(ada, room);
        return found.length > 0 ? found : undefined;
      },
      "the transcript",
      30_000,
      200,
    );
    expect(logged[0]).toMatchObject({
      type: "message.transcribed",
      data: { messageId: seq, attachmentId, text: "hello there", engine: "pocketsphinx" },
    });
    await pastFirstRetry();
    expect(asked.get("503-once")).toBe(2);
    expect(await transcriptsIn(ada, room)).toHaveLength(1);
  }, 60_000);

  it("a message deleted while its audio is heard gets no transcript, and is not asked again", async () => {
    const { ada, room, seq } = await postVoice("hold");
    await waitUntil(() => asked.get("hold") === 1, "the transcriber asked", 15_000);
    await ada.api.command(room, { type: "delete", clientId: crypto.randomUUID(), messageId: seq });
    release();
    await pastFirstRetry();
    expect(asked.get("hold")).toBe(1);
    expect(await transcriptsIn(ada, room)).toEqual([]);
  }, 60_000);

  it("heard far longer than its uploader said: kept, and logged as a warning", async () => {
    const { ada, room, attachmentId } = await postVoice("long");
    const logged = await waitUntil(
      async () => {
        const found = await transcriptsIn(ada, room);
        return found.length > 0 ? found : undefined;
      },
      "the transcript",
      30_000,
      200,
    );
    expect(logged[0]).toMatchObject({ data: { attachmentId, text: "on and on" } });
    const warned = await waitUntil(() =>
      workerLogs().find(
        (l) =>
          l.msg === "voice message longer than its uploader said" && l.attachment === attachmentId,
      ),
    );
    expect(warned).toMatchObject({ level: "warn", claimedMs: 1200, heardS: 600, overS: 598.8 });
    // The others were heard within their claim (1.2 s each): no such warning for them.
    expect(
      workerLogs().filter((l) => l.msg === "voice message longer than its uploader said"),
    ).toHaveLength(1);
  }, 60_000);
});
