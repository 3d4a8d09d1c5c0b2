import type { Attachment } from "../../client/index.ts";

/** An attachment as a message holds it, with the transcript of a voice one once it came. */
export type TranscribedAttachment = Attachment & {
  readonly transcript?: { readonly text: string; readonly failed?: "unreadable" | "unavailable" };
};

/** What shows under a voice message: its transcript, or that it is coming, or that none was heard. */
export type TranscriptLine = { state: "pending" | "done" | "empty" | "failed"; text: string };

const FAILED = {
  unreadable: "No transcript: the recording could not be heard",
  unavailable: "No transcript: the transcriber was unavailable",
} as const;

export function transcriptLine(attachment: TranscribedAttachment): TranscriptLine {
  const failed = attachment.transcript?.failed;
  if (failed) return { state: "failed", text: FAILED[failed] };
  const text = attachment.transcript?.text.trim();
  if (text === undefined) return { state: "pending", text: "Transcribing…" };
  return text === "" ? { state: "empty", text: "No speech heard" } : { state: "done", text };
}
