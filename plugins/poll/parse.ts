/**
 * What `/poll` was asked: the arguments split into words and quoted phrases, then read as
 * `close` or as a question and its options.
 */

export const POLL_LIMITS = {
  minOptions: 2,
  maxOptions: 10,
  questionCodePoints: 200,
  optionCodePoints: 80,
} as const;

/** Straight quotes, and the curly ones phones type in their place. */
const CLOSING_QUOTE: Record<string, string> = { '"': '"', "“": "”", "„": "“", "«": "»" };

type Token = { text: string; quoted: boolean };

/** Words and quoted phrases; a quote opens only at the start of a word, so "don't" is a word. */
export function tokenize(args: string): { tokens: Token[] } | { problem: string } {
  const tokens: Token[] = [];
  const chars = [...args];
  let i = 0;
  while (i < chars.length) {
    if (/\s/u.test(chars[i]!)) {
      i++;
      continue;
    }
    const close = CLOSING_QUOTE[chars[i]!];
    if (close !== undefined) {
      const end = chars.findIndex((c, j) => j > i && (c === close || c === '"'));
      if (end === -1) return { problem: `a quote (${chars[i]}) is not closed` };
      tokens.push({
        text: chars
          .slice(i + 1, end)
          .join("")
          .trim(),
        quoted: true,
      });
      i = end + 1;
      continue;
    }
    let end = i;
    while (end < chars.length && !/\s/u.test(chars[end]!)) end++;
    tokens.push({ text: chars.slice(i, end).join(""), quoted: false });
    i = end;
  }
  return { tokens };
}

export type PollRequest =
  { close: true } | { question: string; options: string[] } | { problem: string };

const codePoints = (text: string) => [...text].length;

export function parsePoll(args: string): PollRequest {
  const split = tokenize(args);
  if ("problem" in split) return split;
  const { tokens } = split;
  if (tokens.length === 1 && !tokens[0]!.quoted && tokens[0]!.text.toLowerCase() === "close")
    return { close: true };
  const [question, ...rest] = tokens.map((token) => token.text.replace(/\s+/gu, " "));
  if (question === undefined || question === "") return { problem: "the poll needs a question" };
  if (codePoints(question) > POLL_LIMITS.questionCodePoints)
    return { problem: `the question is longer than ${POLL_LIMITS.questionCodePoints} characters` };
  if (rest.length < POLL_LIMITS.minOptions || rest.length > POLL_LIMITS.maxOptions)
    return {
      problem: `a poll has ${POLL_LIMITS.minOptions} to ${POLL_LIMITS.maxOptions} options, not ${rest.length}`,
    };
  const seen = new Set<string>();
  for (const option of rest) {
    if (option === "") return { problem: "an option is empty" };
    if (codePoints(option) > POLL_LIMITS.optionCodePoints)
      return { problem: `an option is longer than ${POLL_LIMITS.optionCodePoints} characters` };
    const key = option.toLowerCase();
    if (seen.has(key)) return { problem: `"${option}" is an option twice` };
    seen.add(key);
  }
  return { question, options: rest };
}
