/**
 * The two result files of pocketsphinx_batch (issue17-facts §1c), read without running it:
 *
 * - `-hyp`: `the weather today is told and rainy (utt1 -11165)`, the text then the utterance's id
 *   and score; ` (utt1 -453)` when nothing was heard.
 * - `-hypseg`: `utt1 S 0 T -8326937 A -… L -… 0 -86016 0 <s> 3 -618496 -190 the … </s> 218`: after
 *   the scores, one `startFrame ascr lscr word` per word, then the frame where the last one ends.
 *   Frames are 10 ms.
 */

/** A frame is 10 ms. */
export const FRAMES_PER_SECOND = 100;

/** A stretch the decoder labelled: a word, or a filler (silence, breath, noise). */
export type HypEntry = { word: string; startFrame: number; endFrame: number; filler: boolean };

/** `<s>`, `</s>`, `<sil>` and the noise words `[NOISE]`, `[SPEECH]` (the model's noisedict). */
const isFiller = (word: string) => /^<.*>$/.test(word) || /^\[.*\]$/.test(word);

/** `and(2)` is the second pronunciation of `and`: the word is `and`. */
const withoutVariant = (word: string) => word.replace(/\(\d+\)$/, "");

/** The recognised text of the first line of a `-hyp` file, without its id and score. */
export function parseHyp(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line
    .replace(/\s*\(\S+ -?\d+\)\s*$/, "")
    .split(/\s+/)
    .filter((word) => word !== "" && !isFiller(word))
    .map(withoutVariant)
    .join(" ");
}

/**
 * Every labelled stretch of the first line of a `-hypseg` file, fillers included (they mark the
 * pauses that split segments), variant marks dropped. Throws on a line that is not of that form.
 */
export function parseHypseg(text: string): HypEntry[] {
  const fields = (text.split("\n")[0] ?? "").trim().split(/\s+/);
  // utt S <n> T <n> A <n> L <n>, then quadruples, then the end frame.
  if (fields.length < 10 || fields[1] !== "S" || fields[5] !== "A" || fields[7] !== "L")
    throw new Error("not a pocketsphinx -hypseg line");
  const rest = fields.slice(9);
  if (rest.length % 4 !== 1) throw new Error("a -hypseg line with a broken word list");
  const frame = (field: string | undefined) => {
    const n = Number(field);
    if (!Number.isInteger(n) || n < 0) throw new Error(`a -hypseg frame that is not one: ${field}`);
    return n;
  };
  const entries: HypEntry[] = [];
  for (let i = 0; i + 4 < rest.length; i += 4) {
    const word = rest[i + 3]!;
    entries.push({
      word: withoutVariant(word),
      startFrame: frame(rest[i]),
      endFrame: frame(rest[i + 4]),
      filler: isFiller(word),
    });
  }
  return entries;
}
