import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import type { Attachment, Session, TranscriptData } from "../../src/protocol/index.ts";
import { transcriberActor } from "../../src/room/decide-attachments.ts";
import { EventLog } from "../../src/room/log.ts";
import type { Room } from "../../src/room/room.ts";
import { roomStub } from "./helpers.ts";

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
