import {
  AttachmentKind,
  TranscriptFailure,
  attachmentPath,
  type MessageAttachment,
  type Transcript,
  type TranscriptSegment,
} from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { MessageRef } from "./messages.ts";

/** An attachment and the room it is in, so that it can name the path of its bytes. */
type AttachmentIn = { room: string; attachment: MessageAttachment };

const TranscriptFailureEnum = builder.enumType("TranscriptFailure", {
  description:
    "Why there will be no transcript: `unreadable`, the engine refused the recording; `unavailable`, no transcriber answered for a day.",
  values: TranscriptFailure.options,
});

const AttachmentKindEnum = builder.enumType("AttachmentKind", {
  description:
    "`voice`: recorded audio, transcribed; `image`: PNG, JPEG, GIF or WebP; `file`: anything else, served as a download.",
  values: AttachmentKind.options,
});

const TranscriptSegmentRef = builder.objectRef<TranscriptSegment>("TranscriptSegment").implement({
  description: "One stretch of a transcript, its times in seconds from the recording's start.",
  fields: (t) => ({
    start: t.exposeFloat("start"),
    end: t.exposeFloat("end"),
    text: t.exposeString("text"),
  }),
});

const TranscriptRef = builder.objectRef<Transcript>("Transcript").implement({
  description:
    "What a voice attachment says (message.transcribed); `text` is empty when nothing was heard.",
  fields: (t) => ({
    text: t.exposeString("text"),
    segments: t.field({
      type: [TranscriptSegmentRef],
      description: "Empty when the engine gave none.",
      resolve: (transcript) => transcript.segments ?? [],
    }),
    language: t.exposeString("language", {
      nullable: true,
      description: "ISO 639-1, when the engine says.",
    }),
    engine: t.exposeString("engine", {
      description:
        "Which engine heard it, e.g. `pocketsphinx` or `@cf/openai/whisper-large-v3-turbo`.",
    }),
    failed: t.field({
      type: TranscriptFailureEnum,
      nullable: true,
      description: "Set when there will be no transcript, and `text` is empty.",
      resolve: (transcript) => transcript.failed,
    }),
  }),
});

const AttachmentRef = builder.objectRef<AttachmentIn>("Attachment").implement({
  description: "A file a message carries (docs/attachments.md).",
  fields: (t) => ({
    id: t.id({ resolve: (a) => a.attachment.id }),
    kind: t.field({ type: AttachmentKindEnum, resolve: (a) => a.attachment.kind }),
    name: t.string({
      description: "The file's name as its uploader gave it: shown, never a path.",
      resolve: (a) => a.attachment.name,
    }),
    type: t.string({
      description: "The media type read from the bytes.",
      resolve: (a) => a.attachment.type,
    }),
    size: t.int({ description: "Bytes.", resolve: (a) => a.attachment.size }),
    durationMs: t.int({
      nullable: true,
      description: "Voice only: the recording's length in milliseconds.",
      resolve: (a) => a.attachment.durationMs,
    }),
    waveform: t.intList({
      nullable: true,
      description: "Voice only: peaks of the recording's loudness, 0 (silence) to 255.",
      resolve: (a) => a.attachment.waveform,
    }),
    transcript: t.field({
      type: TranscriptRef,
      nullable: true,
      description: "Voice only, once transcribed.",
      resolve: (a) => a.attachment.transcript,
    }),
    path: t.string({
      description:
        "Where the bytes are served, relative to the API's origin: GET with the same bearer token (Range and ETag work).",
      resolve: (a) => attachmentPath(a.room, a.attachment.id),
    }),
  }),
});

builder.objectFields(MessageRef, (t) => ({
  attachments: t.field({
    type: [AttachmentRef],
    description:
      "Its files, in the order posted; empty while the message is deleted and once redacted.",
    resolve: ({ room, message }) =>
      (message.attachments ?? []).map((attachment) => ({ room, attachment })),
  }),
}));
