import { availableParallelism } from "node:os";
import * as z from "zod";
import { LIMITS_ATTACHMENTS } from "../protocol/attachments.ts";
import { DEBIAN_MODEL_DIR } from "./commands.ts";

const MiB = 1024 * 1024;
const whole = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/**
 * The service's settings, from the environment of `npm run transcriber` (docs/attachments.md,
 * "The local transcriber"). Defaults: 127.0.0.1:8790; one job per core at once (a job takes a
 * core) and 8 more waiting; 300 s per job (a 5-minute message takes 45 s on a quiet core here,
 * 0.15× real time, and up to 0.5× on a busy machine: bench:transcriber); a 16 MiB body, which holds a 10 MiB voice message in base64 (13.4 MiB) with room to spare.
 */
export const TranscriberEnv = z.object({
  TRANSCRIBER_HOST: z.string().min(1).default("127.0.0.1"),
  TRANSCRIBER_PORT: whole(8790, 0),
  TRANSCRIBER_JOBS: whole(availableParallelism()),
  TRANSCRIBER_QUEUE: whole(8, 0),
  TRANSCRIBER_TIMEOUT_MS: whole(300_000),
  TRANSCRIBER_MAX_BODY_BYTES: whole(16 * MiB),
  TRANSCRIBER_MODEL_DIR: z.string().min(1).default(DEBIAN_MODEL_DIR),
  TRANSCRIBER_FFMPEG: z.string().min(1).default("ffmpeg"),
  TRANSCRIBER_POCKETSPHINX: z.string().min(1).default("pocketsphinx_batch"),
});

export type TranscriberOptions = {
  host: string;
  port: number;
  jobs: number;
  queue: number;
  jobTimeoutMs: number;
  maxBodyBytes: number;
  modelDir: string;
  ffmpeg: string;
  pocketsphinx: string;
  /** The longest recording transcribed: a voice message's limit. */
  maxSeconds: number;
  tmpRoot?: string;
};

/** The options from an environment; a bad value throws, naming the variable. */
export function optionsFromEnv(env: Record<string, string | undefined>): TranscriberOptions {
  const parsed = TranscriberEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`transcriber: ${issue.path.join(".")}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    host: e.TRANSCRIBER_HOST,
    port: e.TRANSCRIBER_PORT,
    jobs: e.TRANSCRIBER_JOBS,
    queue: e.TRANSCRIBER_QUEUE,
    jobTimeoutMs: e.TRANSCRIBER_TIMEOUT_MS,
    maxBodyBytes: e.TRANSCRIBER_MAX_BODY_BYTES,
    modelDir: e.TRANSCRIBER_MODEL_DIR,
    ffmpeg: e.TRANSCRIBER_FFMPEG,
    pocketsphinx: e.TRANSCRIBER_POCKETSPHINX,
    maxSeconds: LIMITS_ATTACHMENTS.voiceMs / 1000,
  };
}
