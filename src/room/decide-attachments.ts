import type { Command, UserRef } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { accept, refuse, type Decision } from "./decision.ts";
import type { RoomView } from "./room-view.ts";

/** Who logs transcripts (docs/attachments.md, "Transcription"): the room's own bot. */
export const TRANSCRIBER_BOT: UserRef = { id: "svc_transcriber", name: "Transcriber" };

/** The Transcriber bot as the room's command flow sees it: a service that may log transcripts here, no more. */
export const transcriberActor = (room: string): Actor => ({
  ...TRANSCRIBER_BOT,
  kind: "service",
  scope: { rooms: [room], actions: ["transcript"], role: "member" },
});

/**
 * A voice attachment's transcript is logged by the Transcriber bot alone, on a message still
 * there: one deleted or redacted meanwhile keeps no transcript.
 */
export function decideTranscript(
  command: Extract<Command, { type: "transcript" }>,
  actor: Actor,
  view: RoomView,
): Decision {
  if (actor.id !== TRANSCRIBER_BOT.id)
    return refuse("forbidden", "only the room's Transcriber logs transcripts");
  const { messageId } = command.transcript;
  const message = view.message(messageId);
  if (!message || message.deleted || message.redacted)
    return refuse("not_found", `no message ${messageId}`);
  return accept({ type: "message.transcribed", data: command.transcript });
}
