import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { whisperAnswer } from "./answer.ts";
import { ffmpegArgs, PCM_BYTES_PER_SECOND, sphinxArgs } from "./commands.ts";
import { ServiceError } from "./errors.ts";
import { parseHyp, parseHypseg } from "./hypseg.ts";
import { runTool } from "./run-tool.ts";

export type PipelineOptions = {
  ffmpeg: string;
  pocketsphinx: string;
  modelDir: string;
  /**
   * The longest recording transcribed (seconds). Longer, by more than `SLACK_SECONDS`, is 413
   * `too_large`; ffmpeg stops decoding one second past it.
   */
  maxSeconds: number;
  /** Where each job's folder is made (the system's temporary folder by default). */
  tmpRoot?: string;
};

/** Encoders pad a recording by a few milliseconds: a 5:00.0 message may decode to 5:00.02. */
export const SLACK_SECONDS = 0.5;

/** ffmpeg's reason in one line, without the input's name: what a caller can act on. */
function decoderReason(stderr: string): string {
  const line = stderr.trim().split("\n").at(-1) ?? "";
  return line.replace(/^pipe:0:\s*/, "").slice(0, 200) || "ffmpeg could not read it";
}

/**
 * One recording to Whisper's answer: the bytes through ffmpeg to raw 16 kHz mono PCM, that
 * through pocketsphinx_batch, its result files parsed. Every file lives in a folder of its own,
 * removed whatever happens; `signal` (the job's time limit, or its caller leaving) kills whichever
 * tool is running.
 */
export async function transcribeAudio(
  audio: Uint8Array,
  options: PipelineOptions,
  signal: AbortSignal,
) {
  const dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "edgechat-transcriber-"));
  try {
    const raw = join(dir, "utt.raw");
    const decoded = await runTool(options.ffmpeg, ffmpegArgs(raw, options.maxSeconds), {
      input: audio,
      signal,
    });
    if (decoded.code !== 0)
      throw new ServiceError(
        "unsupported_type",
        `the audio could not be decoded: ${decoderReason(decoded.stderr)}`,
      );
    const pcmBytes = await stat(raw).then(
      (s) => s.size,
      () => 0,
    );
    if (pcmBytes === 0) throw new ServiceError("unsupported_type", "the file holds no audio");
    const durationS = pcmBytes / PCM_BYTES_PER_SECOND;
    if (durationS > options.maxSeconds + SLACK_SECONDS)
      throw new ServiceError(
        "too_large",
        `the recording is longer than ${options.maxSeconds} s, the longest transcribed`,
      );

    const files = {
      dir,
      ctlFile: join(dir, "ctl"),
      hypFile: join(dir, "out.hyp"),
      segFile: join(dir, "out.seg"),
    };
    await writeFile(files.ctlFile, "utt\n");
    const heard = await runTool(
      options.pocketsphinx,
      sphinxArgs({ ...files, modelDir: options.modelDir }),
      { signal },
    );
    if (heard.code !== 0)
      throw new Error(`pocketsphinx_batch exited with ${heard.code ?? heard.signal}`);
    const text = parseHyp(await readFile(files.hypFile, "utf8"));
    const entries = parseHypseg(await readFile(files.segFile, "utf8"));
    return whisperAnswer(text, entries, Math.round(durationS * 1000) / 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
