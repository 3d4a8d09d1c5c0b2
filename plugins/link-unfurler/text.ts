/**
 * A page's words made safe to post: one line of plain text, cut to a length. Pages write what
 * they like in their titles; the reply must not carry control characters, bidirectional
 * overrides that reorder what the reader sees, or a link the unfurler would then unfurl again.
 */

/** Invisible format characters, but the joiners that hold emoji and some scripts together. */
const FORMAT = /[\p{Cf}]/gu;
const KEPT_FORMAT = new Set(["\u200C", "\u200D"]);
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]+/gu;
/** A word joiner after the colon: the text still reads `https://`, but is no link to match. */
const SCHEME = /:\/\//gu;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function plainLine(raw: string, maxCharacters: number): string {
  const line = raw
    .replace(FORMAT, (c) => (KEPT_FORMAT.has(c) ? c : ""))
    .replace(WHITESPACE_OR_CONTROL, " ")
    .trim()
    .replace(SCHEME, ":\u2060//");
  return cut(line, maxCharacters);
}

/**
 * At most `max` code points (what the message limit counts), with `…` when something was cut,
 * never splitting a character as readers see it (a letter and its accents, an emoji sequence).
 */
export function cut(text: string, max: number): string {
  if ([...text].length <= max) return text;
  let kept = "";
  let length = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = [...segment].length;
    if (length + size > max - 1) break;
    kept += segment;
    length += size;
  }
  return `${kept.trimEnd()}…`;
}
