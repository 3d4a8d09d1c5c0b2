import {
  BIDI_CONTROLS,
  LIMITS_ATTACHMENTS,
  maxBytesOf,
  type AttachmentKind,
} from "../../client/index.ts";

/**
 * The pure rules of attachments in the UI (docs/attachments.md, "Recording", "Playback", "In the
 * UI"): formats, what a refusal says to people, times and sizes as shown. No DOM.
 */

/** What MediaRecorder is asked for, best first: Chromium records WebM, Firefox Ogg, Safari MP4. */
export const RECORDING_TYPES = [
  "audio/webm;codecs=opus",
  "audio/ogg;codecs=opus",
  "audio/mp4",
] as const;

/**
 * The bitrate of a recording: the transcriber hears Opus at 16–24 kbit/s far better than at
 * MediaRecorder's default 128 (docs/attachments.md, "Recording").
 */
export const RECORDING_BITS_PER_SECOND = 24_000;

/** The first type this browser records, or undefined when it records none of them. */
export function pickRecordingType(isTypeSupported: (type: string) => boolean): string | undefined {
  return RECORDING_TYPES.find((type) => isTypeSupported(type));
}

/**
 * Whether a recording must stop now: at five minutes, or when the next second at this rate
 * could pass the voice size limit (a second's margin, as chunks come every 250 ms).
 */
export function mustStopRecording(elapsedMs: number, bytes: number): boolean {
  if (elapsedMs >= LIMITS_ATTACHMENTS.voiceMs) return true;
  const perSecond = elapsedMs > 0 ? (bytes / elapsedMs) * 1000 : 0;
  return bytes + perSecond >= LIMITS_ATTACHMENTS.voiceBytes;
}

/** Why recording could not start, for people: from getUserMedia's or MediaRecorder's error. */
export function recordingErrorText(error: unknown): string {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "The microphone is blocked. Allow it for this site in the browser's settings to record.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one to record a voice message.";
    case "NotReadableError":
    case "AbortError":
      return "The microphone is in use by another application, or failed. Try again.";
    case "NotSupportedError":
      return "This browser cannot record audio here.";
    default:
      return `Recording failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export const NO_RECORDER_TEXT =
  "This browser cannot record voice messages (no MediaRecorder or microphone access). Attach an audio file instead.";

/** "0:07", "1:05", "12:00": minutes and seconds, rounded down. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

/** What a screen reader says of a player's position: "0:03 of 0:10". */
export function positionText(currentMs: number, durationMs: number): string {
  return `${formatClock(currentMs)} of ${formatClock(durationMs)}`;
}

/** "812 B", "12.5 KB", "3.4 MB" (powers of 1024, one decimal under 10). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The playback speeds offered, and the one after `rate` (back to 1× after 2×). */
export const SPEEDS = [1, 1.5, 2] as const;
export function nextSpeed(rate: number): number {
  const index = SPEEDS.findIndex((speed) => speed === rate);
  return SPEEDS[(index + 1) % SPEEDS.length]!;
}

/** The image types the server previews (anything else attached is a `file`). */
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/**
 * The kind an attached file is uploaded as: one of the four image types is an `image`, all else
 * a `file` (voice messages are recorded, not attached). The server reads the type from the bytes
 * and refuses a mismatch; this is only the client's first guess.
 */
export function kindOfFile(file: { type: string }): Exclude<AttachmentKind, "voice"> {
  return IMAGE_TYPES.has(file.type) ? "image" : "file";
}

/** A file too large for its kind, said before any byte is sent; undefined when it fits. */
export function sizeProblem(kind: AttachmentKind, bytes: number): string | undefined {
  const max = maxBytesOf(kind);
  if (bytes === 0) return "The file is empty.";
  return bytes > max
    ? `Too large: ${kind === "image" ? "images" : "files"} are at most ${formatBytes(max)}.`
    : undefined;
}

/**
 * The name a file is uploaded under: its own, with what the contract forbids (slashes, control
 * characters, bidirectional controls) made `_` and cut to 200 characters; a pasted file without one gets `pasted`.
 */
export function uploadName(name: string): string {
  const clean = name
    .replace(/[\u0000-\u001f\u007f/\\]/g, "_")
    .replace(new RegExp(BIDI_CONTROLS.source, "g"), "_")
    .trim()
    .slice(0, LIMITS_ATTACHMENTS.nameChars)
    .trim();
  return clean || "pasted";
}

/** A recording's file name, its extension from the recorder's type. */
export function recordingName(type: string): string {
  const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
  return `voice-message.${extension}`;
}
