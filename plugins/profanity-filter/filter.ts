/**
 * The filter itself, pure: which listed words a text holds, and the text with each of them
 * turned to asterisks. Words match whole (not inside a longer word), ignoring case, in any script;
 * a listed entry may be a phrase of a few words.
 */

export const WORD_LIMITS = { codePoints: 40, words: 200 } as const;

/** A letter, mark or digit: what a word is made of, in any script. */
const WORD_CHAR = String.raw`[\p{L}\p{M}\p{N}_]`;
/** A listed entry: words of letters, marks and digits, joined by one space, `'`, `’` or `-`. */
const ENTRY = /^[\p{L}\p{M}\p{N}]+(?:[ '’-][\p{L}\p{M}\p{N}]+)*$/u;

/**
 * The form a word is kept in, or a reason it cannot be listed. NFC so that an accent typed as
 * one code point or two is the same word; lower case so that the list has each word once.
 */
export function normalizeWord(raw: string): { word: string } | { problem: string } {
  const word = raw.normalize("NFC").trim().replace(/\s+/gu, " ").toLowerCase();
  if (word === "") return { problem: "the word is empty" };
  if ([...word].length > WORD_LIMITS.codePoints)
    return { problem: `a word is at most ${WORD_LIMITS.codePoints} characters` };
  if (!ENTRY.test(word))
    return { problem: `"${word}" is not a word: letters and digits, joined by spaces, ' or -` };
  return { word };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * One regular expression for the whole list: an alternation of literals (no nested quantifiers,
 * so no catastrophic backtracking), longest first so that a phrase wins over a word it starts with,
 * fenced by look-arounds so that "heck" does not match in "checkout". `i` with `u` folds case in
 * every script by Unicode's simple case folding (so "ß" does not match "ss").
 */
export function compileFilter(words: readonly string[]): RegExp | null {
  if (words.length === 0) return null;
  const alternatives = [...words]
    .sort((a, b) => b.length - a.length)
    .map((word) => escapeRegExp(word).replace(/ /g, String.raw`\s+`));
  return new RegExp(`(?<!${WORD_CHAR})(?:${alternatives.join("|")})(?!${WORD_CHAR})`, "giu");
}

export type Scan = {
  /** The text in NFC: what the matches index into. */
  text: string;
  /** Each listed word found, lower-cased, once. */
  found: string[];
  /** The text with every found word's letters as asterisks (its spaces kept). */
  censored: string;
};

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** One asterisk per character as a reader counts them (a letter with its accents is one). */
const asterisks = (match: string) =>
  [...graphemes.segment(match)]
    .map(({ segment }) => (/^\s+$/u.test(segment) ? segment : "*"))
    .join("");

export function scan(text: string, filter: RegExp | null): Scan {
  const nfc = text.normalize("NFC");
  if (!filter) return { text: nfc, found: [], censored: nfc };
  const found = new Set<string>();
  const censored = nfc.replace(filter, (match) => {
    found.add(match.toLowerCase().replace(/\s+/gu, " "));
    return asterisks(match);
  });
  return { text: nfc, found: [...found], censored };
}
