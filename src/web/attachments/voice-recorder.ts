import { LIMITS_ATTACHMENTS } from "../../client/index.ts";
import {
  mustStopRecording,
  NO_RECORDER_TEXT,
  pickRecordingType,
  RECORDING_BITS_PER_SECOND,
  recordingErrorText,
} from "./media-rules.ts";
import { peakCount, peaks } from "./waveform.ts";

/** A finished recording, ready to upload as `voice`. */
export type Recording = {
  readonly blob: Blob;
  /** From the decoded audio: WebM from MediaRecorder states no duration of its own. */
  readonly durationMs: number;
  readonly waveform: number[];
};

/** Why a recording did not start or could not be used, for people. */
export class RecordingError extends Error {}

/** Chunks come this often, so that a stop loses at most this much and sizes are known as it goes. */
const CHUNK_MS = 250;

/**
 * One recording from the microphone with MediaRecorder: the first type the browser supports
 * (media-rules.ts), Opus at 24 kbit/s, stopped at five minutes or near the size limit by itself.
 * `stop()` answers the recording with its true duration and waveform from the decoded audio.
 * @example
 * const recorder = await VoiceRecorder.start(() => console.log("limit reached"));
 * const recording = await recorder.stop();
 */
export class VoiceRecorder {
  readonly #stream: MediaStream;
  readonly #recorder: MediaRecorder;
  readonly #chunks: Blob[] = [];
  readonly #stopped: Promise<void>;
  readonly startedAt = performance.now();
  #bytes = 0;

  private constructor(stream: MediaStream, recorder: MediaRecorder, onLimit: () => void) {
    this.#stream = stream;
    this.#recorder = recorder;
    this.#stopped = new Promise((resolve) => recorder.addEventListener("stop", () => resolve()));
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size === 0) return;
      this.#chunks.push(event.data);
      this.#bytes += event.data.size;
      if (mustStopRecording(this.elapsedMs, this.#bytes)) onLimit();
    });
  }

  /** Asks for the microphone and starts; throws a RecordingError that says what to do. */
  static async start(onLimit: () => void): Promise<VoiceRecorder> {
    if (typeof MediaRecorder === "undefined" || !navigator.mediaDevices?.getUserMedia)
      throw new RecordingError(NO_RECORDER_TEXT);
    const mimeType = pickRecordingType((type) => MediaRecorder.isTypeSupported(type));
    if (!mimeType) throw new RecordingError(NO_RECORDER_TEXT);
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      throw new RecordingError(recordingErrorText(error));
    }
    try {
      const recorder = new MediaRecorder(stream, {
        mimeType,
        audioBitsPerSecond: RECORDING_BITS_PER_SECOND,
      });
      const started = new VoiceRecorder(stream, recorder, onLimit);
      recorder.start(CHUNK_MS);
      return started;
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      throw new RecordingError(recordingErrorText(error));
    }
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Stops and answers the recording, decoded for its duration and waveform. */
  async stop(): Promise<Recording> {
    await this.#end();
    const blob = new Blob(this.#chunks, { type: this.#recorder.mimeType });
    if (blob.size === 0) throw new RecordingError("Nothing was recorded.");
    if (blob.size > LIMITS_ATTACHMENTS.voiceBytes)
      throw new RecordingError("The recording is larger than a voice message may be (10 MiB).");
    return decodeRecording(blob);
  }

  /** Stops and throws the recording away. */
  async cancel(): Promise<void> {
    await this.#end();
    this.#chunks.length = 0;
  }

  async #end(): Promise<void> {
    if (this.#recorder.state !== "inactive") this.#recorder.stop();
    await this.#stopped;
    // The browser's "recording" indicator goes off with the tracks.
    for (const track of this.#stream.getTracks()) track.stop();
  }
}

/** The duration and waveform of a recording, from its decoded audio. */
export async function decodeRecording(blob: Blob): Promise<Recording> {
  // An OfflineAudioContext decodes without an audio device and without a user gesture.
  const context = new OfflineAudioContext(1, 1, 48_000);
  let audio: AudioBuffer;
  try {
    audio = await context.decodeAudioData(await blob.arrayBuffer());
  } catch {
    throw new RecordingError("The recording could not be read back. Try again.");
  }
  const durationMs = Math.min(
    LIMITS_ATTACHMENTS.voiceMs,
    Math.max(1, Math.round(audio.duration * 1000)),
  );
  const channels = Array.from({ length: audio.numberOfChannels }, (_, i) =>
    audio.getChannelData(i),
  );
  return { blob, durationMs, waveform: peaks(channels, peakCount(durationMs)) };
}
