import { HttpTranscriber } from "./http.ts";
import type { Transcriber } from "./transcriber.ts";
import { WorkersAiTranscriber, type WhisperBinding } from "./workers-ai.ts";

/**
 * The two settings that choose a transcriber. Neither is in wrangler.toml (an `[ai]` block at its
 * top level stops local development and the tests: issue17-facts §3), so `wrangler types` does not
 * generate them; declared here, they survive its regeneration of worker-configuration.d.ts.
 */
type TranscriptionBindings = {
  /** Workers AI, bound in production only (docs/attachments.md, "What production needs"). */
  AI?: Ai;
  /** The local transcriber's base URL (`npm run transcriber`; `.dev.vars` sets it). */
  TRANSCRIBER_URL?: string;
};
declare global {
  interface Env extends TranscriptionBindings {}
  namespace Cloudflare {
    interface Env extends TranscriptionBindings {}
  }
}

export type TranscriptionSettings = { AI?: WhisperBinding; TRANSCRIBER_URL?: string };

/** The transcriber the room uses, or none, and why, in words for the log. */
export type TranscriberChoice =
  { transcriber: Transcriber; why: string } | { transcriber: undefined; why: string };

/**
 * `AI` bound → Workers AI; else `TRANSCRIBER_URL` set → the HTTP service; else none: voice
 * messages are stored and played but stay without a transcript.
 */
export function selectTranscriber(env: TranscriptionSettings): TranscriberChoice {
  if (env.AI)
    return { transcriber: new WorkersAiTranscriber(env.AI), why: "the AI binding (Workers AI)" };
  const url = env.TRANSCRIBER_URL?.trim();
  if (!url)
    return {
      transcriber: undefined,
      why: "no AI binding and no TRANSCRIBER_URL: voice messages stay untranscribed",
    };
  if (!isHttpUrl(url))
    return {
      transcriber: undefined,
      why: `TRANSCRIBER_URL is not an http(s) URL (${JSON.stringify(url)}): voice messages stay untranscribed`,
    };
  return { transcriber: new HttpTranscriber({ url }), why: `the transcriber at ${url}` };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
