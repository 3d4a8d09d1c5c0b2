/**
 * The people of bench:uploads: guests signed in through the SDK, each with an open socket in the
 * room (opening one is how a guest joins a public room, and the UI posts over it), and what a
 * reader's socket hears of transcripts.
 */
import { EdgechatApi, RoomConnection, type RoomEvent } from "../../src/client/index.ts";
import { now, withTimeout } from "../util.ts";

export type Person = {
  name: string;
  api: EdgechatApi;
  conn: RoomConnection;
};

/** A guest, signed in, its socket open in `room` (created by the first, when `create`). */
export async function person(
  baseUrl: string,
  name: string,
  room: string,
  create = false,
): Promise<Person> {
  const session = await new EdgechatApi(baseUrl).signInGuest(name);
  const api = new EdgechatApi(baseUrl, session.token);
  if (create) await api.createRoom({ name: room, visibility: "public" });
  const conn = new RoomConnection({ baseUrl, room, token: session.token });
  const welcomed = new Promise<void>((resolve) => conn.on("welcome", () => resolve()));
  conn.connect();
  await withTimeout(welcomed, 15_000, `${name}'s welcome in ${room}`);
  return { name, api, conn };
}

type Transcribed = Extract<RoomEvent, { type: "message.transcribed" }>;

/** When each attachment's `message.transcribed` reached `reader`'s socket, and what it said. */
export function transcriptsHeardBy(reader: Person) {
  const heard = new Map<string, { at: number; text: string }>();
  const waiting = new Map<string, () => void>();
  reader.conn.on("event", (event) => {
    if (event.type !== "message.transcribed") return;
    const { attachmentId, text } = (event as Transcribed).data;
    heard.set(attachmentId, { at: now(), text });
    waiting.get(attachmentId)?.();
  });
  return {
    /** Waits (at most `timeoutMs`) for the attachment's transcript on the reader's socket. */
    async wait(attachmentId: string, timeoutMs: number): Promise<{ at: number; text: string }> {
      if (!heard.has(attachmentId))
        await withTimeout(
          new Promise<void>((resolve) => waiting.set(attachmentId, resolve)),
          timeoutMs,
          `message.transcribed of ${attachmentId}`,
        ).finally(() => waiting.delete(attachmentId));
      return heard.get(attachmentId)!;
    },
  };
}
