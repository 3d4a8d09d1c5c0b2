import { LIMITS_ATTACHMENTS, type TranscriptSegment } from "../protocol/attachments.ts";

/** What an engine heard in one recording; `text` is empty when it heard nothing. */
export type Transcript = {
  text: string;
  segments?: TranscriptSegment[];
  /** ISO 639-1, when the engine says. */
  language?: string;
  /** The recording's length as the engine decoded it (seconds). */
  durationS?: number;
};

/**
 * One way to turn a voice message into text (docs/attachments.md, "Transcription"): Workers AI
 * Whisper in production (`workers-ai.ts`), the local pocketsphinx service over HTTP in development
 * and tests (`http.ts`); `select.ts` picks one from the environment.
 */
export interface Transcriber {
  /** Who hears it, logged in the transcript event (`TranscriptData.engine`). */
  readonly engine: string;
  /**
   * `type` is the media type read from the bytes (an `Attachment`'s `type`). Both back ends today
   * let the engine probe the bytes and ignore it; it is there for engines that need to be told.
   * Throws `TranscriberDown` (try again later) or `TranscriptionFailed` (never again).
   */
  transcribe(audio: Uint8Array, type: string): Promise<Transcript>;
}

/**
 * The engine could not be reached, was busy or failed on its side (a network error, a timeout,
 * 429, 5xx): the same audio may well succeed later, so the room retries with backoff.
 */
export class TranscriberDown extends Error {
  /** Seconds the engine asked us to wait (Retry-After), when it said. */
  readonly retryAfterS: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterS?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = "TranscriberDown";
    this.retryAfterS = options.retryAfterS;
  }
}

/**
 * The engine refused this audio (it does not decode, it is too long, the request is malformed)
 * or answered something that is not a transcript: trying again gives the same answer.
 */
export class TranscriptionFailed extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "TranscriptionFailed";
  }
}

/** Refuses, before any engine is asked, audio that no engine should be sent. */
export function checkAudio(audio: Uint8Array): void {
  if (audio.byteLength === 0) throw new TranscriptionFailed("the recording is empty");
  if (audio.byteLength > LIMITS_ATTACHMENTS.voiceBytes)
    throw new TranscriptionFailed(
      `the recording is ${audio.byteLength} bytes, more than a voice message's ${LIMITS_ATTACHMENTS.voiceBytes}`,
    );
}
