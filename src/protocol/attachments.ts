import * as z from "zod";
import { ClientId } from "./names.ts";

/**
 * Additions: attachments and voice messages (docs/attachments.md). A file is uploaded into the
 * room first (an upload session, in parts, resumable), then posted: a `post` names the uploads it
 * carries and its `message.posted` event logs each one's descriptor. The bytes live in R2 under a
 * key derived from the room and the attachment id; the log stays the source of truth for what a
 * message carries. A voice message's transcript is a `message.transcribed` event.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS_ATTACHMENTS = {
  /** Every part but the last is exactly this size (R2's multipart minimum); the last is at most it. */
  partBytes: 5 * MiB,
  voiceBytes: 10 * MiB,
  /** A voice message is at most five minutes long. */
  voiceMs: 5 * 60 * 1000,
  imageBytes: 25 * MiB,
  fileBytes: 100 * MiB,
  /** Uploads a message may carry. */
  perMessage: 10,
  /** Open or finished-but-unposted uploads one person may hold in a room. */
  pendingPerUser: 20,
  /** An upload not posted within a day is deleted, parts and all. */
  uploadTtlMs: 24 * 3600 * 1000,
  /** A deleted message's files are kept this long, for its undo; a redacted one's go at once. */
  keepDeletedMs: 24 * 3600 * 1000,
  nameChars: 200,
  /** A voice message's waveform: this many peaks at most, each 0..255. */
  waveformPeaks: 128,
  transcriptChars: 20_000,
  transcriptSegments: 500,
} as const;

export const maxBytesOf = (kind: AttachmentKind): number =>
  kind === "voice"
    ? LIMITS_ATTACHMENTS.voiceBytes
    : kind === "image"
      ? LIMITS_ATTACHMENTS.imageBytes
      : LIMITS_ATTACHMENTS.fileBytes;

/** 128 random bits, base64url: the upload's id while it is uploaded, the attachment's once posted. */
export const AttachmentId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, "an attachment id is 22 base64url characters");
export type AttachmentId = z.infer<typeof AttachmentId>;

/**
 * `voice`: recorded audio, transcribed; `image`: PNG, JPEG, GIF or WebP, previewed; `file`:
 * anything else that is not markup, always served as a download.
 */
export const AttachmentKind = z.enum(["voice", "image", "file"]);
export type AttachmentKind = z.infer<typeof AttachmentKind>;

/** A file name as the uploader gave it: shown and offered on download, never used as a path. */
export const FileName = z
  .string()
  .trim()
  .min(1, "a file name is empty")
  .max(
    LIMITS_ATTACHMENTS.nameChars,
    `a file name is at most ${LIMITS_ATTACHMENTS.nameChars} characters`,
  )
  .refine(
    (s) => !/[\u0000-\u001f\u007f/\\]/.test(s),
    "a file name has no slashes or control characters",
  );

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a name holding
 * one can show as something it is not ("invoice\u202Efdp.exe" reads "invoiceexe.pdf").
 */
export const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/** Peaks of the recording's loudness, computed in the client, 0 (silence) to 255. */
export const Waveform = z
  .array(z.number().int().min(0).max(255))
  .min(1)
  .max(LIMITS_ATTACHMENTS.waveformPeaks);

export const DurationMs = z
  .number()
  .int()
  .positive()
  .max(LIMITS_ATTACHMENTS.voiceMs, "a voice message is at most 5 minutes");

/** The body of POST /api/rooms/{room}/uploads. */
export const NewUpload = z
  .object({
    kind: AttachmentKind,
    // New names only: descriptors already logged keep FileName's rules.
    name: FileName.refine(
      (s) => !BIDI_CONTROLS.test(s),
      "a file name has no bidirectional controls (U+202A to U+202E, U+2066 to U+2069)",
    ),
    /** The file's exact size in bytes: the parts must add up to it. */
    size: z.number().int().positive(),
    /** Voice only, and required there: the recording's length, which WebM from MediaRecorder lacks. */
    durationMs: DurationMs.optional(),
    waveform: Waveform.optional(),
    /** Sent again with the same value, the call answers the upload it opened the first time. */
    clientId: ClientId.optional(),
  })
  .strict()
  .refine((u) => u.size <= maxBytesOf(u.kind), {
    message: "the file is larger than its kind allows (docs/attachments.md)",
    path: ["size"],
  })
  .refine((u) => (u.kind === "voice") === (u.durationMs !== undefined), {
    message: "a voice upload gives durationMs, and only a voice upload",
    path: ["durationMs"],
  })
  .refine((u) => u.kind === "voice" || u.waveform === undefined, {
    message: "only a voice upload has a waveform",
    path: ["waveform"],
  });
export type NewUpload = z.infer<typeof NewUpload>;

/** An upload session, as its uploader sees it: what to send next is every part not in `received`. */
export const Upload = z.object({
  id: AttachmentId,
  kind: AttachmentKind,
  name: FileName,
  size: z.number().int().positive(),
  partBytes: z.number().int().positive(),
  /** How many parts the file takes: ceil(size / partBytes). */
  parts: z.number().int().positive(),
  /** The part numbers (1-based) already stored, ascending. */
  received: z.array(z.number().int().positive()),
  /** `open` takes parts; `complete` is stored whole, ready to post; `posted` is on a message. */
  state: z.enum(["open", "complete", "posted"]),
  /** When an unposted upload is deleted (ms). */
  expiresAt: z.number().int(),
});
export type Upload = z.infer<typeof Upload>;

export const PartReceipt = z.object({
  part: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
});
export type PartReceipt = z.infer<typeof PartReceipt>;

/**
 * An attachment as a `message.posted` event logs it. `type` is the media type read from the
 * bytes, never from the name; `size` is the stored object's.
 */
export const Attachment = z.object({
  id: AttachmentId,
  kind: AttachmentKind,
  name: FileName,
  type: z.string().min(1).max(100),
  size: z.number().int().positive(),
  durationMs: DurationMs.optional(),
  waveform: Waveform.optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** The attachment ids a `post` carries: uploads of the sender's in that room, complete and unposted. */
export const PostAttachments = z
  .array(AttachmentId)
  .min(1)
  .max(
    LIMITS_ATTACHMENTS.perMessage,
    `a message carries at most ${LIMITS_ATTACHMENTS.perMessage} files`,
  )
  .refine((ids) => new Set(ids).size === ids.length, "an attachment is named twice");

/** One stretch of a transcript, with its times in seconds from the start of the recording. */
export const TranscriptSegment = z.object({
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  text: z.string().max(LIMITS_ATTACHMENTS.transcriptChars),
});
export type TranscriptSegment = z.infer<typeof TranscriptSegment>;

/** The data of `message.transcribed`: the text of one voice attachment, empty when nothing was heard. */
export const TranscriptData = z.object({
  messageId: z.number().int().positive(),
  attachmentId: AttachmentId,
  text: z.string().max(LIMITS_ATTACHMENTS.transcriptChars),
  segments: z.array(TranscriptSegment).max(LIMITS_ATTACHMENTS.transcriptSegments).optional(),
  /** ISO 639-1, when the engine says. */
  language: z.string().min(2).max(8).optional(),
  /** Which engine heard it, e.g. `pocketsphinx` or `@cf/openai/whisper-large-v3-turbo`. */
  engine: z.string().min(1).max(100),
});
export type TranscriptData = z.infer<typeof TranscriptData>;

/** A transcript as readers are served it, on its attachment. */
export const Transcript = TranscriptData.omit({ messageId: true, attachmentId: true });
export type Transcript = z.infer<typeof Transcript>;

/** An attachment as a message is served (GET …/messages, time travel): with its transcript once there is one. */
export const MessageAttachment = Attachment.extend({ transcript: Transcript.optional() });
export type MessageAttachment = z.infer<typeof MessageAttachment>;

/**
 * `attachments` with the transcript of `data` on its attachment; a second transcript of the same
 * attachment replaces the first.
 */
export function withTranscript(
  attachments: readonly MessageAttachment[],
  { messageId: _message, attachmentId, ...transcript }: TranscriptData,
): MessageAttachment[] {
  return attachments.map((a) => (a.id === attachmentId ? { ...a, transcript } : a));
}

/**
 * Where an attachment's bytes are served (GET, docs/attachments.md "The HTTP contract"): the path
 * the other APIs (GraphQL, RPC) hand their clients, relative to the API's origin.
 */
export const attachmentPath = (room: string, attachmentId: string): string =>
  `/api/rooms/${encodeURIComponent(room)}/attachments/${encodeURIComponent(attachmentId)}`;
