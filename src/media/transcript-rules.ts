import {
  LIMITS_ATTACHMENTS,
  type TranscriptData,
  type TranscriptSegment,
} from "../protocol/attachments.ts";

/**
 * How long one transcription may take before it counts as failed: a 5-minute message heard at
 * real time by a busy engine, and the HTTP back end's own wait (src/transcription/http.ts).
 */
export const TRANSCRIBE_FOR_MS = 6 * 60 * 1000;
/** The first retry's wait; each next one doubles, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 5000;
export const RETRY_MAX_MS = 10 * 60 * 1000;
/** A voice message still without a transcript this long after its post is given up. */
export const GIVE_UP_AFTER_MS = 24 * 3600 * 1000;

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failures (1 for the first), or
 * undefined when `elapsed` since the post is past the day it is tried for.
 * @example retryDelayMs(1, 0) // 5000
 */
export function retryDelayMs(attempt: number, elapsed: number): number | undefined {
  if (elapsed >= GIVE_UP_AFTER_MS) return undefined;
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, attempt - 1));
}

/**
 * How much longer a voice message was heard than its uploader said, in seconds, when that is more
 * than a recorder's rounding (2 s, or 10 % of a long one); undefined otherwise, or when the engine
 * did not say. The claim (`durationMs`) is the client's, never checked at upload: a worker cannot
 * decode audio, and WebM from MediaRecorder states no duration. So the engine's decoded length is
 * the first check of it, after the fact: it is logged, not refused (docs/attachments.md,
 * "Decisions of the review").
 * @example beyondClaimS(60_000, 75) // 15
 */
export function beyondClaimS(claimedMs: number, heardS: number | undefined): number | undefined {
  if (heardS === undefined || !Number.isFinite(heardS)) return undefined;
  const over = heardS - claimedMs / 1000;
  return over > Math.max(2, (claimedMs / 1000) * 0.1) ? Math.round(over * 10) / 10 : undefined;
}

const clip = (text: string, chars: number) => {
  const points = [...text.trim()];
  return points.length <= chars ? points.join("") : points.slice(0, chars).join("");
};

/**
 * What an engine heard as the event logs it: the text trimmed and cut to the contract's limit,
 * at most its number of segments, each with times that are numbers and in order.
 */
export function fitTranscript(
  heard: { text: string; segments?: TranscriptSegment[]; language?: string },
  messageId: number,
  attachmentId: string,
  engine: string,
): TranscriptData {
  const segments = (heard.segments ?? [])
    .filter((s) => Number.isFinite(s.start) && Number.isFinite(s.end) && s.start >= 0)
    .slice(0, LIMITS_ATTACHMENTS.transcriptSegments)
    .map((s) => ({
      start: s.start,
      end: Math.max(s.start, s.end),
      text: clip(s.text, LIMITS_ATTACHMENTS.transcriptChars),
    }));
  const language = heard.language?.trim();
  return {
    messageId,
    attachmentId,
    text: clip(heard.text, LIMITS_ATTACHMENTS.transcriptChars),
    ...(segments.length > 0 ? { segments } : {}),
    ...(language && language.length >= 2 && language.length <= 8 ? { language } : {}),
    engine: clip(engine, 100),
  };
}
