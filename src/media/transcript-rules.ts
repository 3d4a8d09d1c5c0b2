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
