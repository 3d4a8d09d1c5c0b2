/**
 * Release to transcript: each of bench/transcriber's five sentences, spoken by espeak-ng and
 * encoded as the UI records (Opus in WebM at the recorder's bit rate), uploaded as a voice message
 * through the SDK and posted on the sender's socket, then waited for as `message.transcribed` on
 * a reader's socket. One message at a time (`reps` times over), then `burst` messages from as
 * many senders at the same moment.
 *
 * The clock starts when the upload starts: what the UI does on release after decoding the
 * recording for its duration and waveform. That decoding (the browser's decodeAudioData) is not
 * included: Node has no such decoder, and ffmpeg's time would not be the browser's.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  contentWords,
  contentWordsFound,
  SENTENCES,
  synthesizeVoice,
} from "../../test/support/voice.ts";
import { peakCount, peaks } from "../../src/web/attachments/waveform.ts";
import { cpuWindow } from "../integrations/common.ts";
import type { RunningServer } from "../servers.ts";
import { now } from "../util.ts";
import type { Person } from "./people.ts";
import type { transcriptsHeardBy } from "./people.ts";
import type { Relay } from "./relay.ts";
import type { CpuSpent, VoiceTiming } from "./stats.ts";

export type Clip = {
  sentence: string;
  webm: Uint8Array<ArrayBuffer>;
  sha256: string;
  durationMs: number;
  waveform: number[];
};

export type VoiceSample = VoiceTiming & {
  sentence: number;
  sender: string;
  attachmentId: string;
  bytes: number;
  durationMs: number;
  /** Requests the room made for it (more than one: the service was full or down). */
  calls: number;
  heard: string;
  contentFound: number;
  contentWords: number;
};

/** ffmpeg's decoding of `input` to 48 kHz mono float samples, as a browser's decoder gives them. */
function decode(input: Uint8Array): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", "pipe:0"];
    args.push("-ac", "1", "-ar", "48000", "-f", "f32le", "pipe:1");
    const ffmpeg = spawn("ffmpeg", args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let said = "";
    ffmpeg.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    ffmpeg.stderr.on("data", (chunk: Buffer) => (said += chunk.toString("utf8")));
    ffmpeg.once("error", reject);
    ffmpeg.once("close", (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg could not decode the clip: ${said.trim()}`));
      const raw = Buffer.concat(out);
      resolve(new Float32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4)));
    });
    ffmpeg.stdin.end(input);
  });
}

/** The sentence as the UI would upload it: the bytes, and the duration and peaks it computes. */
async function clipOf(sentence: string, kbps: number): Promise<Clip> {
  const webm = await synthesizeVoice(sentence, { kbps });
  const samples = await decode(webm);
  const durationMs = Math.round((samples.length / 48_000) * 1000);
  return {
    sentence,
    webm,
    sha256: createHash("sha256").update(webm).digest("hex"),
    durationMs,
    waveform: peaks([samples], peakCount(durationMs)),
  };
}

export async function makeClips(kbps: number): Promise<Clip[]> {
  return Promise.all(SENTENCES.map((s) => clipOf(s, kbps)));
}

export type Transcripts = ReturnType<typeof transcriptsHeardBy>;

/** One voice message from release to the reader's transcript. */
async function sendVoice(
  sender: Person,
  room: string,
  clip: Clip,
  sentence: number,
  transcripts: Transcripts,
  relay: Relay,
  timeoutMs: number,
): Promise<VoiceSample> {
  const startedAt = now();
  const attachment = await sender.api.upload(room, new Blob([clip.webm], { type: "audio/webm" }), {
    kind: "voice",
    name: "voice.webm",
    durationMs: clip.durationMs,
    waveform: clip.waveform,
  });
  const uploadedAt = now();
  await sender.conn.post("", { attachments: [attachment.id] });
  const ackedAt = now();
  const { at: transcribedAt, text } = await transcripts.wait(attachment.id, timeoutMs);
  // The room's requests for this clip since the upload started; the answer is the last one's.
  const calls = relay.calls.filter(
    (c) =>
      c.audioSha256 === clip.sha256 && c.arrivedAt >= startedAt && c.answeredAt <= transcribedAt,
  );
  const answered = calls.filter((c) => c.status === 200).at(-1);
  return {
    sentence,
    sender: sender.name,
    attachmentId: attachment.id,
    bytes: clip.webm.length,
    durationMs: clip.durationMs,
    startedAt,
    uploadedAt,
    ackedAt,
    ...(answered ? { callAt: answered.arrivedAt, answerAt: answered.answeredAt } : {}),
    transcribedAt,
    calls: calls.length,
    heard: text,
    contentFound: contentWordsFound(clip.sentence, text),
    contentWords: contentWords(clip.sentence).length,
  };
}

export type VoiceOptions = {
  reps: number;
  /** Voice messages sent at the same moment, each by its own sender. */
  burst: number;
  burstRounds: number;
  timeoutMs: number;
};

export type VoiceResult = { single: VoiceSample[]; bursts: VoiceSample[][] };

export type VoiceCpu = CpuSpent & { transcriberCpuMs: number };

/**
 * CPU of a process and of its children that ended and were waited for (utime, stime, cutime,
 * cstime): the transcriber's ffmpeg and pocketsphinx jobs are short-lived children of it.
 */
function cpuWithChildrenMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is 14, stime 15, cutime 16, cstime 17, in ticks of 10 ms.
    return [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0) * 10;
  } catch {
    return NaN;
  }
}

/** Runs `work` in a CPU window of the server, with the transcriber's CPU apart from the others'. */
export async function withCpu<T extends object>(
  server: RunningServer,
  transcriberPid: number,
  work: () => Promise<T>,
): Promise<T & { cpu: VoiceCpu }> {
  const end = cpuWindow(server);
  const transcriber0 = cpuWithChildrenMs(transcriberPid);
  const result = await work();
  const window = end();
  const transcriberCpuMs = cpuWithChildrenMs(transcriberPid) - transcriber0;
  const othersCores = Math.max(0, window.othersCores - transcriberCpuMs / window.wallMs);
  return { ...result, cpu: { ...window, othersCores, transcriberCpuMs } };
}

export async function measureVoice(
  senders: readonly Person[],
  transcripts: Transcripts,
  room: string,
  clips: readonly Clip[],
  relay: Relay,
  options: VoiceOptions,
  log: (line: string) => void,
): Promise<VoiceResult> {
  const single: VoiceSample[] = [];
  for (let rep = 1; rep <= options.reps; rep++)
    for (const [i, clip] of clips.entries()) {
      const sample = await sendVoice(
        senders[0]!,
        room,
        clip,
        i,
        transcripts,
        relay,
        options.timeoutMs,
      );
      single.push(sample);
      log(
        `  #${rep} "${clip.sentence}": ${(sample.transcribedAt - sample.startedAt).toFixed(0)} ms, heard "${sample.heard}"`,
      );
    }
  const bursts: VoiceSample[][] = [];
  for (let round = 1; round <= options.burstRounds; round++) {
    const sent = await Promise.all(
      senders
        .slice(0, options.burst)
        .map((sender, i) =>
          sendVoice(
            sender,
            room,
            clips[i % clips.length]!,
            i % clips.length,
            transcripts,
            relay,
            options.timeoutMs,
          ),
        ),
    );
    sent.sort((a, b) => a.transcribedAt - b.transcribedAt);
    bursts.push(sent);
    log(
      `  ${options.burst} at once #${round}: ${sent.map((s) => (s.transcribedAt - s.startedAt).toFixed(0)).join(", ")} ms`,
    );
  }
  return { single, bursts };
}
