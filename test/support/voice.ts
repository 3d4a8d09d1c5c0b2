/**
 * Voice messages for the tests and the bench, made the way issue17-facts §1 measured them:
 * espeak-ng speaks a sentence, ffmpeg encodes it as Opus in WebM at a low bit rate (16 or 24
 * kbit/s, the rates at which pocketsphinx hears espeak best; 128 kbit/s gets 83 % WER), with the
 * bitexact flags so that the same sentence gives the same bytes, hence the same transcript.
 * Also the measures of what was heard: word error rate and content words found, and the bar the
 * end-to-end test holds a transcript to (docs/attachments.md, "Transcription: accuracy").
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The five sentences of issue17-facts §1c, 41 words. */
export const SENTENCES = [
  "the quick brown fox jumps over the lazy dog",
  "please call me back when you get home tonight",
  "we will meet at the office tomorrow morning",
  "the weather today is cold and rainy",
  "send the report to the team before friday",
] as const;

/** The sentence the end-to-end test speaks. */
export const BAR_SENTENCE = "we will meet at the office tomorrow morning";

const BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"];

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "edgechat-voice-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A sentence spoken by espeak-ng (US English, 175 words a minute), as Opus in WebM.
 * @example const webm = await synthesizeVoice("we will meet at the office tomorrow morning", { kbps: 16 });
 */
export function synthesizeVoice(
  sentence: string,
  options: { kbps?: number; container?: "webm" | "ogg" } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const container = options.container ?? "webm";
  return inTempDir(async (dir) => {
    const wav = join(dir, "speech.wav");
    const out = join(dir, `speech.${container}`);
    await run("espeak-ng", ["-v", "en-us", "-s", "175", "-w", wav, sentence]);
    await run("ffmpeg", [
      ...["-hide_banner", "-loglevel", "error", "-nostdin", "-i", wav],
      ...["-c:a", "libopus", "-b:a", `${options.kbps ?? 16}k`, ...BITEXACT, out],
    ]);
    return new Uint8Array(await readFile(out));
  });
}

/** `seconds` of silence as Opus in WebM: nothing to hear, and cheap to make long. */
export function encodeSilence(seconds: number): Promise<Uint8Array<ArrayBuffer>> {
  return inTempDir(async (dir) => {
    const out = join(dir, "silence.webm");
    await run("ffmpeg", [
      ...["-hide_banner", "-loglevel", "error", "-nostdin"],
      ...["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", String(seconds)],
      ...["-c:a", "libopus", "-b:a", "16k", ...BITEXACT, out],
    ]);
    return new Uint8Array(await readFile(out));
  });
}

const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter(Boolean);

/** Words too short or too common to tell that a sentence was heard (issue17-facts §1c). */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  "the",
  "a",
  "to",
  "at",
  "is",
  "and",
  "me",
  "we",
  "you",
  "when",
  "over",
]);

export const contentWords = (sentence: string) => words(sentence).filter((w) => !STOP_WORDS.has(w));

/** How many of the sentence's content words the transcript has, anywhere in it. */
export function contentWordsFound(sentence: string, transcript: string): number {
  const heard = new Set(words(transcript));
  return contentWords(sentence).filter((w) => heard.has(w)).length;
}

/**
 * The bar of the end-to-end test: at least 2 of the sentence's content words, or at least 40 % of
 * them, are in the transcript.
 */
export function meetsTranscriptBar(sentence: string, transcript: string): boolean {
  const found = contentWordsFound(sentence, transcript);
  return found >= 2 || found >= 0.4 * contentWords(sentence).length;
}

/** Word-level edits (substitutions, insertions, deletions) from `reference` to `hypothesis`. */
export function wordEdits(reference: string, hypothesis: string): number {
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[hyp.length]!;
}

/** Word error rate: edits over the reference's word count. */
export const wordErrorRate = (reference: string, hypothesis: string) =>
  wordEdits(reference, hypothesis) / words(reference).length;
