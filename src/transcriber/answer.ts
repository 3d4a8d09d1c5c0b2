import type { WhisperOutput } from "../transcription/whisper.ts";
import { FRAMES_PER_SECOND, type HypEntry } from "./hypseg.ts";

/**
 * A pause at least this long (a filler stretch: silence, breath, noise) ends a segment, as
 * Whisper's segments end at pauses. 0.4 s: longer than the gaps between words of one phrase
 * (espeak leaves 0.1–0.3 s), shorter than a speaker's pause between sentences.
 */
export const SEGMENT_PAUSE_FRAMES = 40;

type Word = { word: string; start: number; end: number };
type Segment = { start: number; end: number; text: string; words: Word[] };

const seconds = (frames: number) => frames / FRAMES_PER_SECOND;

/** The words of the decoder's stretches, grouped into segments at long pauses. */
export function segmentsOf(entries: readonly HypEntry[]): Segment[] {
  const groups: Word[][] = [[]];
  for (const entry of entries) {
    if (entry.filler) {
      if (entry.endFrame - entry.startFrame >= SEGMENT_PAUSE_FRAMES && groups.at(-1)!.length > 0)
        groups.push([]);
      continue;
    }
    groups
      .at(-1)!
      .push({ word: entry.word, start: seconds(entry.startFrame), end: seconds(entry.endFrame) });
  }
  return groups
    .filter((words) => words.length > 0)
    .map((words) => ({
      start: words[0]!.start,
      end: words.at(-1)!.end,
      text: words.map((w) => w.word).join(" "),
      words,
    }));
}

/**
 * pocketsphinx's result in Whisper's output shape (src/transcription/whisper.ts): the text of
 * `-hyp`, segments and word times from `-hypseg`, and the decoded audio's length. The model is
 * US English, so the language is always `en`.
 */
export function whisperAnswer(text: string, entries: readonly HypEntry[], durationS: number) {
  const segments = segmentsOf(entries);
  const answer = {
    text,
    word_count: text === "" ? 0 : text.split(" ").length,
    segments,
    transcription_info: { language: "en", duration: durationS },
  } satisfies WhisperOutput;
  return answer;
}
