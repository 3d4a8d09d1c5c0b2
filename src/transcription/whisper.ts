import * as z from "zod";
import { LIMITS_ATTACHMENTS, type TranscriptSegment } from "../protocol/attachments.ts";
import type { Transcript } from "./transcriber.ts";

/**
 * The shapes of Workers AI's `@cf/openai/whisper-large-v3-turbo` (its model page and the runtime
 * types in worker-configuration.d.ts), which both back ends speak: Workers AI itself, and the local
 * pocketsphinx service (src/transcriber/), which takes and answers the same JSON so that one
 * mapper (`toTranscript`) serves both.
 */
export const WHISPER_MODEL = "@cf/openai/whisper-large-v3-turbo";

/**
 * The input, as documented. `audio` is base64 of the file's bytes (the binding's type also allows
 * `{ body, contentType }`; over HTTP only the string form exists, so only it is accepted). Unknown
 * fields are refused, so that a misspelt option is an error and not silently ignored.
 */
export const WhisperInput = z
  .object({
    audio: z
      .base64("audio must be the recording's bytes in base64 (RFC 4648, with padding)")
      .min(1, "audio is empty"),
    task: z.enum(["transcribe", "translate"]).optional(),
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/, "language is an ISO 639-1 code such as en")
      .optional(),
    vad_filter: z.boolean().optional(),
    initial_prompt: z.string().optional(),
    prefix: z.string().optional(),
    beam_size: z.number().int().positive().optional(),
    condition_on_previous_text: z.boolean().optional(),
    no_speech_threshold: z.number().optional(),
    compression_ratio_threshold: z.number().optional(),
    log_prob_threshold: z.number().optional(),
    hallucination_silence_threshold: z.number().optional(),
  })
  .strict();
export type WhisperInput = z.infer<typeof WhisperInput>;

const WhisperWord = z.looseObject({
  word: z.string().optional(),
  start: z.number().optional(),
  end: z.number().optional(),
});

const WhisperSegment = z.looseObject({
  start: z.number().optional(),
  end: z.number().optional(),
  text: z.string().optional(),
  temperature: z.number().optional(),
  avg_logprob: z.number().optional(),
  compression_ratio: z.number().optional(),
  no_speech_prob: z.number().optional(),
  words: z.array(WhisperWord).optional(),
});

/** The output, as documented; fields it may add later are let through. Times in seconds. */
export const WhisperOutput = z.looseObject({
  text: z.string(),
  word_count: z.number().optional(),
  segments: z.array(WhisperSegment).optional(),
  transcription_info: z
    .looseObject({
      language: z.string().optional(),
      language_probability: z.number().optional(),
      duration: z.number().optional(),
      duration_after_vad: z.number().optional(),
    })
    .optional(),
  vtt: z.string().optional(),
});
export type WhisperOutput = z.infer<typeof WhisperOutput>;

/** Cuts text to `chars` without leaving half of a surrogate pair at the end. */
function capText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.slice(0, chars);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

const finite = (n: number | undefined): n is number => typeof n === "number" && Number.isFinite(n);

/** A segment the contract can log: times present and ordered, text trimmed and not empty. */
function toSegment(segment: z.infer<typeof WhisperSegment>): TranscriptSegment | undefined {
  const text = capText((segment.text ?? "").trim(), LIMITS_ATTACHMENTS.transcriptChars);
  if (text === "" || !finite(segment.start) || !finite(segment.end)) return undefined;
  const start = Math.max(0, segment.start);
  return { start, end: Math.max(start, segment.end), text };
}

/**
 * The one mapper of both back ends: Whisper's answer as a `Transcript`, trimmed and capped to the
 * contract's limits (`transcriptChars`, `transcriptSegments`), so that it always fits a
 * `message.transcribed` event.
 */
export function toTranscript(output: WhisperOutput): Transcript {
  const transcript: Transcript = {
    text: capText(output.text.trim(), LIMITS_ATTACHMENTS.transcriptChars),
  };
  const segments = (output.segments ?? [])
    .map(toSegment)
    .filter((segment) => segment !== undefined)
    .slice(0, LIMITS_ATTACHMENTS.transcriptSegments);
  if (segments.length > 0) transcript.segments = segments;
  const language = output.transcription_info?.language;
  if (language && /^[a-z]{2,8}$/i.test(language)) transcript.language = language.toLowerCase();
  const duration = output.transcription_info?.duration;
  if (finite(duration) && duration >= 0) transcript.durationS = duration;
  return transcript;
}

/**
 * Base64 of the bytes: workerd's native `Uint8Array.prototype.toBase64` (issue17-facts §3), or,
 * where it is missing (Node 24), `btoa` over chunks: spreading a whole 10 MiB recording into
 * `String.fromCharCode` would overflow the stack.
 */
export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  const CHUNK = 0x8000;
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK)
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}
