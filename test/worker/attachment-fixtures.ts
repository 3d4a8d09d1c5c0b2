import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import type { Attachment, Session, TranscriptData } from "../../src/protocol/index.ts";
import { transcriberActor } from "../../src/room/decide-attachments.ts";
import { EventLog } from "../../src/room/log.ts";
import type { Room } from "../../src/room/room.ts";
import { call, roomStub } from "./helpers.ts";

// Messages with attachments and transcripts in a real room, for the API layers' tests.

export const VOICE: Attachment = {
  id: "vvvvvvvvvvvvvvvvvvvvvv",
  kind: "voice",
  name: "voice message.webm",
  type: "audio/webm",
  size: 48_213,
  durationMs: 4_200,
  waveform: [0, 12, 200, 255, 31],
};
export const IMAGE: Attachment = {
  id: "iiiiiiiiiiiiiiiiiiiiii",
  kind: "image",
  name: "harbour.png",
  type: "image/png",
  size: 1_024,
};

/**
 * A message carrying `attachments`, logged in the room as a post with uploads logs it (the upload
 * routes live on their own branch): appended and projected by the room's own log, after which
 * the object is evicted so that it reads its tables afresh. Answers the message's id.
 */
export async function postWithAttachments(
  room: string,
  author: Session,
  attachments: Attachment[],
): Promise<number> {
  const stub = roomStub(room);
  const id = await runInDurableObject(stub, (_room: Room, state) => {
    const log = new EventLog(state.storage.sql);
    const [posted] = state.storage.transactionSync(() =>
      log.append(
        [{ type: "message.posted", data: { text: "", attachments } }],
        author.user,
        Date.now(),
      ),
    );
    log.committed();
    return posted!.seq;
  });
  await evictDurableObject(stub);
  return id;
}

/** The transcript as the room's transcription queue logs it: a command of the Transcriber bot. */
export async function transcribe(room: string, transcript: TranscriptData): Promise<number> {
  const logged = await roomStub(room).command(
    { type: "transcript", clientId: `transcript:${transcript.attachmentId}`, transcript },
    transcriberActor(room),
  );
  if (!logged.ok) throw new Error(logged.error.message);
  return logged.value.seq;
}

/** A WebM's EBML header (DocType "webm"), as MediaRecorder starts a recording, padded to `size`. */
function webm(size: number): Uint8Array<ArrayBuffer> {
  const header = [
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81,
    0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87, 0x81, 0x04,
    0x42, 0x85, 0x81, 0x02,
  ];
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  bytes.set(header, 0);
  return bytes;
}

/**
 * A voice recording uploaded through the real routes (open, one part, complete) into the room's
 * R2 bucket: the upload to post, and its bytes.
 */
export async function uploadVoice(
  room: string,
  who: Session,
): Promise<{ attachment: Attachment; bytes: Uint8Array }> {
  const bytes = webm(3_000);
  const opened = await call(`/api/rooms/${room}/uploads`, {
    method: "POST",
    token: who.token,
    json: {
      kind: "voice",
      name: "memo.webm",
      size: bytes.length,
      durationMs: 2_500,
      waveform: [9, 99],
    },
  });
  if (opened.status !== 201) throw new Error(`open: ${opened.status} ${await opened.text()}`);
  const { id } = (await opened.json()) as { id: string };
  const part = await call(`/api/rooms/${room}/uploads/${id}/parts/1`, {
    method: "PUT",
    token: who.token,
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    body: bytes,
  });
  if (part.status !== 200) throw new Error(`part: ${part.status} ${await part.text()}`);
  const done = await call(`/api/rooms/${room}/uploads/${id}/complete`, {
    method: "POST",
    token: who.token,
  });
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${await done.text()}`);
  return { attachment: (await done.json()) as Attachment, bytes };
}
