import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  programsCompiled,
  compileMatch,
  keywordSource,
  matcherFor,
  patternProblem,
} from "../../src/automation/matcher.ts";

const matches = (match: Parameters<typeof compileMatch>[0], text: string): boolean => {
  const compiled = compileMatch(match);
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.test(text);
};

describe("keywords", () => {
  const incident = { keywords: ["incident", "on call", "c++", "🚨", "#deploy"] };

  it.each([
    ["an incident!", true],
    ["INCIDENT", true],
    ["Incident: db down", true],
    ["incidents are rare", false],
    ["coincident", false],
    ["incident2", false],
    ["who is on call?", true],
    ["who is on   call?", true],
    ["who is on\u00a0call?", true],
    ["who is on\ncall?", true],
    ["oncall", false],
    ["on calls", false],
    ["I write c++ daily", true],
    // A keyword that ends on punctuation needs no boundary there.
    ["c++11", true],
    ["xc++", false],
    ["🚨", true],
    ["ab🚨cd", true],
    ["ready to #deploy now", true],
    ["a#deploy", true],
    ["#deployment", false],
    ["nothing here", false],
  ])("%j → %s", (text, expected) => {
    expect(matches(incident, text)).toBe(expected);
  });

  it("is Unicode-aware: letters, numbers and marks of any script are word characters", () => {
    const match = { keywords: ["été", "пожар", "火事", "٣"] };
    expect(matches(match, "l'ÉTÉ arrive")).toBe(true);
    expect(matches(match, "étéx")).toBe(false);
    expect(matches(match, "ПОЖАР!")).toBe(true);
    expect(matches(match, "пожары")).toBe(false);
    expect(matches(match, "大火事だ")).toBe(false);
    expect(matches(match, "火事!")).toBe(true);
    expect(matches(match, "١٢٣")).toBe(false);
    // A decomposed é (e + U+0301) is the same word as a composed one (both NFC).
    expect(matches(match, "e\u0301te\u0301")).toBe(true);
    // A combining mark after a keyword is part of the word: no match.
    expect(matches({ keywords: ["cafe"] }, "cafe\u0301")).toBe(false);
  });

  it("quotes every keyword: RE2 syntax in a keyword is plain text", () => {
    const match = { keywords: ["a.b", "(x)", "1+1", "^$"] };
    expect(matches(match, "axb")).toBe(false);
    expect(matches(match, "a.b")).toBe(true);
    expect(matches(match, "see (x) above")).toBe(true);
    expect(matches(match, "1+1=2")).toBe(true);
    expect(matches(match, "11")).toBe(false);
    expect(matches(match, "price: ^$")).toBe(true);
  });

  it("agrees with a naive reference (fast-check)", () => {
    // Characters whose case mapping is one to one, so that lower-casing is the reference's
    // case-insensitivity; spaces of several kinds; marks, punctuation, digits, an emoji.
    const alphabet = [..."aAbBéÉöÖжЖωΩ中1 2\u00a0\t-+!🚨\u0301ß"];
    const char = fc.constantFrom(...alphabet);
    const word = fc.array(char, { minLength: 1, maxLength: 6 }).map((c) => c.join(""));
    const keyword = word.map((w) => w.trim()).filter((w) => w !== "");
    const flipCase = (s: string, flips: boolean[]) =>
      [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join("");
    // A text around one of the keywords (case flipped here and there), or around a random word.
    const sample = fc.array(keyword, { minLength: 1, maxLength: 4 }).chain((keywords) =>
      fc.tuple(
        fc.constant(keywords),
        fc
          .tuple(
            word,
            fc.oneof(fc.constantFrom(...keywords), word),
            word,
            fc.array(fc.boolean(), { minLength: 1 }),
          )
          .map(([before, inner, after, flips]) => before + flipCase(inner, flips) + after),
      ),
    );
    const seen = { true: 0, false: 0 };
    fc.assert(
      fc.property(sample, ([keywords, text]) => {
        const expected = naiveKeywords(keywords, text);
        expect(matches({ keywords }, text)).toBe(expected);
        seen[`${expected}`]++;
      }),
      { numRuns: 1000 },
    );
    // Both answers were tried often: the property is not won by always saying no.
    expect(seen.true).toBeGreaterThan(50);
    expect(seen.false).toBeGreaterThan(50);
  });
});

/** The reference: try every keyword at every code point, with the same rules written plainly. */
function naiveKeywords(keywords: string[], text: string): boolean {
  const WORD = /^[\p{L}\p{N}\p{M}]$/u;
  const SPACE = /^[\t\n\v\f\r\u0085\p{Z}]$/u;
  const points = [...text.normalize("NFC")];
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return keywords.some((keyword) => {
    const words = keyword
      .normalize("NFC")
      .split(/[\t\n\v\f\r\u0085\p{Z}]+/u)
      .map((w) => [...w]);
    const first = words[0]![0]!;
    const last = words.at(-1)!.at(-1)!;
    for (let start = 0; start < points.length; start++) {
      if (WORD.test(first) && start > 0 && WORD.test(points[start - 1]!)) continue;
      let at = start;
      let ok = true;
      for (const [index, letters] of words.entries()) {
        if (index > 0) {
          if (!SPACE.test(points[at] ?? "")) ok = false;
          while (SPACE.test(points[at] ?? "")) at++;
        }
        for (const letter of letters) {
          if (!ok || at >= points.length || !same(points[at]!, letter)) ok = false;
          at++;
        }
      }
      if (!ok) continue;
      if (WORD.test(last) && at < points.length && WORD.test(points[at]!)) continue;
      return true;
    }
    return false;
  });
}

describe("patterns (RE2)", () => {
  it("match anywhere, case-sensitive unless (?i)", () => {
    expect(matches({ pattern: "INC-[0-9]+" }, "see INC-42 now")).toBe(true);
    expect(matches({ pattern: "INC-[0-9]+" }, "see inc-42 now")).toBe(false);
    expect(matches({ pattern: "(?i)INC-[0-9]+" }, "see inc-42 now")).toBe(true);
    expect(matches({ pattern: String.raw`^deploy\b` }, "deploy v2")).toBe(true);
    expect(matches({ pattern: String.raw`^deploy\b` }, "a deploy")).toBe(false);
    expect(matches({ pattern: String.raw`\p{Greek}+` }, "αβγ")).toBe(true);
  });

  it("fire when either the keywords or the pattern match", () => {
    const match = { keywords: ["outage"], pattern: "ERR[0-9]{3}" };
    expect(matches(match, "an outage")).toBe(true);
    expect(matches(match, "got ERR500")).toBe(true);
    expect(matches(match, "all good")).toBe(false);
  });

  it("run in linear time on the classic catastrophic input", () => {
    // A backtracking engine takes exponential time on this; RE2 one pass. A bound, not a benchmark.
    const compiled = compileMatch({ pattern: "(a+)+$" });
    expect(compiled.ok).toBe(true);
    const text = `${"a".repeat(30_000)}!`;
    const started = performance.now();
    expect(compiled.ok && compiled.test(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    ["(a", "missing closing )"],
    ["a)", "unexpected )"],
    ["[z-a]", "invalid character class range"],
    ["x**", "invalid nested repetition operator"],
    ["a{1001}", "invalid repeat count"],
    ["(?=x)", "RE2 has no lookahead or lookbehind"],
    ["(?!x)", "RE2 has no lookahead or lookbehind"],
    ["(?<=a)b", "RE2 has no lookahead or lookbehind"],
    [String.raw`(a)\1`, "RE2 has no backreferences"],
  ])("explain %j in words", (pattern, words) => {
    const compiled = compileMatch({ pattern });
    expect(compiled.ok).toBe(false);
    if (compiled.ok) return;
    expect(compiled.error).toMatch(/^the pattern is not valid RE2: /);
    expect(compiled.error).toContain(words);
    expect(patternProblem(pattern)).toBe(compiled.error);
  });

  it("are compiled once: one RE2 compilation per pattern text", () => {
    const pattern = `cached-${Math.random().toString(16).slice(2)}`;
    const before = programsCompiled();
    compileMatch({ pattern });
    compileMatch({ pattern });
    compileMatch({ keywords: ["cache-kw"] });
    compileMatch({ keywords: ["cache-kw"] });
    expect(programsCompiled() - before).toBe(2);
    const match = { keywords: ["same object"] };
    expect(matcherFor(match)).toBe(matcherFor(match));
  });

  it("builds one RE2 source for a keyword list, boundaries only where a keyword has word ends", () => {
    expect(keywordSource(["c++"])).toBe(String.raw`(?i)(?:(?:^|[^\p{L}\p{N}\p{M}])c\+\+)`);
  });
});
