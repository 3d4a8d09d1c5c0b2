import { RE2JS } from "re2js";
import type { Trigger } from "../protocol/automation.ts";

/**
 * A message trigger's match (docs/automation.md, "Rules"): keywords or an RE2 pattern, compiled
 * once and run in linear time. Both go through RE2 (the `re2js` port), never through the
 * backtracking RegExp, so that no rule's text can make a room spend more than a pass over a
 * message on it.
 */

export type MessageMatch = Extract<Trigger, { on: "message" }>["match"];

export type CompiledMatch =
  { ok: true; test(text: string): boolean } | { ok: false; error: string };

/** A letter, a number or a combining mark (so that `café` written with U+0301 is one word). */
export const WORD_CHAR = String.raw`\p{L}\p{N}\p{M}`;
/** White space between the words of a phrase: any run of it matches any other. */
export const SPACE_CHAR = String.raw`\t\n\x{0B}\f\r\x{85}\p{Z}`;
/** The same classes for JavaScript's RegExp (`u` flag), to split and classify. */
const IS_WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
const SPACE_RUN = /[\t\n\v\f\r\u0085\p{Z}]+/u;

/**
 * Compiled RE2 programs by their source text, shared by every rule of the isolate: a rule is
 * compiled once, not on each message. Bounded, oldest out first; a hit moves to the back.
 */
const CACHE_SIZE = 512;
const cache = new Map<string, RE2JS | string>();

/** The RE2 program of `source`, or why RE2 refuses it (in words), from the cache when it can. */
function compiled(source: string): RE2JS | string {
  const known = cache.get(source);
  if (known !== undefined) {
    cache.delete(source);
    cache.set(source, known);
    return known;
  }
  const outcome = compileNow(source);
  cache.set(source, outcome);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return outcome;
}

let compilations = 0;

function compileNow(source: string): RE2JS | string {
  compilations++;
  try {
    return RE2JS.compile(source);
  } catch (error) {
    return explain(error);
  }
}

/** How many times RE2 compiled a program in this isolate: for the tests of "compiled once". */
export const programsCompiled = (): number => compilations;

/**
 * A bad pattern's error, for a 400: what RE2 says, where, and why when it is a feature RE2 leaves
 * out on purpose (lookaround and backreferences are what make a matcher backtrack).
 */
function explain(error: unknown): string {
  const described = error as { getDescription?: () => string; getPattern?: () => string | null };
  const what = described.getDescription?.() ?? "it cannot be compiled";
  const where = described.getPattern?.();
  const at = where ? ` at "${where.slice(0, 40)}"` : "";
  return `the pattern is not valid RE2: ${what}${at}${hintFor(where ?? "")}`;
}

function hintFor(fragment: string): string {
  if (/^\(\?<?[=!]/.test(fragment))
    return " (RE2 has no lookahead or lookbehind: they cannot run in linear time)";
  if (/^\\[1-9]|^\(\?P=/.test(fragment))
    return " (RE2 has no backreferences: they cannot run in linear time)";
  return "";
}

/**
 * The RE2 source matching any of `keywords` as whole words or phrases, ignoring case: a keyword
 * that begins (ends) with a letter, number or mark must not have one just before (after) it;
 * the white space inside a phrase matches any run of white space.
 */
export function keywordSource(keywords: readonly string[]): string {
  const alternatives = keywords.map((keyword) => {
    const phrase = keyword.normalize("NFC");
    const body = phrase
      .split(SPACE_RUN)
      .map((word) => RE2JS.quote(word))
      .join(`[${SPACE_CHAR}]+`);
    const points = [...phrase];
    const before = IS_WORD_CHAR.test(points[0] ?? "") ? `(?:^|[^${WORD_CHAR}])` : "";
    const after = IS_WORD_CHAR.test(points.at(-1) ?? "") ? `(?:$|[^${WORD_CHAR}])` : "";
    return `${before}${body}${after}`;
  });
  return `(?i)(?:${alternatives.join("|")})`;
}

/**
 * A message trigger's match, compiled: `test(text)` is true when any keyword is in the text or
 * the pattern matches anywhere in it (either, when a trigger has both). The pattern is
 * case-sensitive unless it says `(?i)`. Texts and keywords are compared in Unicode's NFC.
 */
export function compileMatch(match: MessageMatch): CompiledMatch {
  const tests: RE2JS[] = [];
  const keywords = (match.keywords ?? []).filter((keyword) => keyword.trim() !== "");
  if (keywords.length > 0) {
    const program = compiled(keywordSource(keywords));
    if (typeof program === "string") return { ok: false, error: program };
    tests.push(program);
  }
  if (match.pattern !== undefined) {
    const program = compiled(match.pattern);
    if (typeof program === "string") return { ok: false, error: program };
    tests.push(program);
  }
  if (tests.length === 0)
    return { ok: false, error: "a message trigger needs keywords or a pattern" };
  return {
    ok: true,
    test(text) {
      const normal = text.normalize("NFC");
      return tests.some((program) => program.test(normal));
    },
  };
}

/** Each match object's compiled form: a rule held in memory builds its keyword source once. */
const byMatch = new WeakMap<MessageMatch, CompiledMatch>();

/** `compileMatch(match)`, remembered for the same match object. */
export function matcherFor(match: MessageMatch): CompiledMatch {
  let compiledMatch = byMatch.get(match);
  if (!compiledMatch) {
    compiledMatch = compileMatch(match);
    byMatch.set(match, compiledMatch);
  }
  return compiledMatch;
}

/** Why RE2 refuses `pattern`, or undefined when it compiles. */
export function patternProblem(pattern: string): string | undefined {
  const program = compiled(pattern);
  return typeof program === "string" ? program : undefined;
}
