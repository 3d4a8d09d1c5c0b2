/**
 * A voice message heard end to end, for real (docs/attachments.md, "Transcription"): espeak-ng
 * speaks a sentence, ffmpeg encodes it as a browser records it (Opus in WebM, 16 kbit/s), the SDK
 * uploads it as a voice attachment to the real worker (wrangler dev, R2 locally) and posts it; the
 * room sends it to the local transcriber (`node scripts/transcriber.ts`, pocketsphinx) through
 * TRANSCRIBER_URL, and a reader's socket gets the `message.transcribed` event. The bar for what
 * pocketsphinx hears: at least 2 of the sentence's 5 content words (it finds 4: "we will eat at the
 * office tomorrow morning"). Then the transcriber goes down: the room retries, and the transcript
 * arrives once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoomEvent } from "../../src/protocol/index.ts";
import { freePort } from "../support/server.ts";
import { startTranscriber, type RunningTranscriber } from "../support/transcriber.ts";
import {
  BAR_SENTENCE,
  contentWordsFound,
  meetsTranscriptBar,
  synthesizeVoice,
} from "../support/voice.ts";
import {
  connect,
  freshRoom,
  guest,
  useServer,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
} from "./helpers.ts";

type Transcribed = Extract<RoomEvent, { type: "message.transcribed" }>;

let server: TestServer;
let transcriber: RunningTranscriber | undefined;
let speech: Uint8Array<ArrayBuffer>;
const transcriberPort = await freePort();

useServer(
  async (started) => {
    server = started;
  },
  { vars: { TRANSCRIBER_URL: `http://127.0.0.1:${transcriberPort}` } },
);
beforeAll(async () => {
  [transcriber, speech] = await Promise.all([
    startTranscriber({ port: transcriberPort }),
    synthesizeVoice(BAR_SENTENCE, { kbps: 16 }),
  ]);
});
afterAll(() => transcriber?.stop());

/** ada uploads the speech as a voice message and posts it; bob reads the room on a socket. */
async function postVoice() {
  const ada = await guest(server.url, "ada");
  const room = await freshRoom(ada, "voice");
  const reader: Guest = await guest(server.url, "bob");
  const bob: Client = await connect(server.url, room, reader);
  const attachment = await ada.api.upload(room, new Blob([speech], { type: "audio/webm" }), {
    kind: "voice",
    name: "voice.webm",
    durationMs: 2300,
    waveform: [0, 128, 255, 128, 0],
  });
  expect(attachment).toMatchObject({ kind: "voice", type: "audio/webm" });
  const { seq } = await ada.api.command(room, {
    type: "post",
    clientId: crypto.randomUUID(),
    attachments: [attachment.id],
  });
  return { room, attachmentId: attachment.id, seq, bob, reader };
}

const transcribedOf = (client: Client, attachmentId: string) =>
  client.events.find(
    (e): e is Transcribed =>
      e.type === "message.transcribed" && e.data.attachmentId === attachmentId,
  );

describe("a voice message's transcript", () => {
  it("is heard by the local transcriber and logged as message.transcribed", async () => {
    const { room, attachmentId, seq, bob, reader } = await postVoice();
    const event = await waitUntil(
      () => transcribedOf(bob, attachmentId),
      "message.transcribed",
      45_000,
      50,
    );
    expect(event.data).toMatchObject({ messageId: seq, attachmentId, engine: "pocketsphinx" });
    expect(event.data.language).toBe("en");
    expect(event.actor).toMatchObject({ name: "Transcriber" });
    const { text } = event.data;
    expect(meetsTranscriptBar(BAR_SENTENCE, text), `heard: "${text}"`).toBe(true);
    // The audio is the same bytes every run, so pocketsphinx hears the same words.
    expect(contentWordsFound(BAR_SENTENCE, text)).toBe(4);
    expect(event.data.segments?.map((s) => s.text).join(" ")).toBe(text);
    // Readers get it on the attachment too.
    const page = await reader.api.messages(room);
    const posted = page.messages.find((m) => m.id === seq);
    expect(posted?.attachments?.[0]?.transcript).toMatchObject({ text, engine: "pocketsphinx" });
  });

  it("arrives once a transcriber that was down is back: the room retries", async () => {
    await transcriber!.stop();
    transcriber = undefined;
    const { attachmentId, bob } = await postVoice();
    // The room's first call finds no one (its first retry is 5 s later).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(transcribedOf(bob, attachmentId)).toBeUndefined();
    transcriber = await startTranscriber({ port: transcriberPort });
    const event = await waitUntil(
      () => transcribedOf(bob, attachmentId),
      "message.transcribed after the transcriber came back",
      45_000,
      50,
    );
    expect(meetsTranscriptBar(BAR_SENTENCE, event.data.text)).toBe(true);
  });
});
