import { describe, expect, it } from "vitest";
import { compileFilter, normalizeWord, scan } from "./filter.ts";

const censor = (text: string, words: string[]) => scan(text, compileFilter(words));

describe("the profanity filter's matching", () => {
  it("turns whole listed words into asterisks, ignoring case, and keeps the rest", () => {
    const result = censor("Darn it, the HECK with checkout and darned heckling.", ["darn", "heck"]);
    expect(result.censored).toBe("**** it, the **** with checkout and darned heckling.");
    expect(result.found).toEqual(["darn", "heck"]);
  });

  it("finds words in any script, with accents typed as one code point or two", () => {
    const words = ["mist", "ärger", "черт"];
    expect(censor("Так ЧЕРТ возьми", words).censored).toBe("Так **** возьми");
    // "A" + combining diaeresis: NFC makes it the listed "ä", and it counts as one character.
    expect(censor("So ein A\u0308rger!", words).censored).toBe("So ein *****!");
    expect(censor("Ärgerlich, mistig", words).found).toEqual([]);
    // Digits and underscores are word characters too: no match inside "heck_2" or "2heck".
    expect(censor("heck_2 2heck heck.", ["heck"]).censored).toBe("heck_2 2heck ****.");
  });

  it("matches a listed phrase across any whitespace, longest entry first", () => {
    const result = censor("oh heck\n no, heck", ["heck", "heck no"]);
    expect(result.censored).toBe("oh ****\n **, ****");
    expect(result.found).toEqual(["heck no", "heck"]);
  });

  it("leaves text alone when nothing is listed or nothing matches", () => {
    expect(censor("heck", []).censored).toBe("heck");
    expect(censor("hello", ["heck"]).found).toEqual([]);
  });

  it("does not catch obfuscations: repeated letters and look-alikes pass (documented)", () => {
    expect(censor("heeeck h3ck h-e-c-k", ["heck"]).found).toEqual([]);
  });
});

describe("the words a room may list", () => {
  it("keeps a word in NFC, lower case, with single spaces", () => {
    expect(normalizeWord("  Heck   No ")).toEqual({ word: "heck no" });
    expect(normalizeWord("A\u0308rger")).toEqual({ word: "ärger" });
    expect(normalizeWord("rock'n'roll")).toEqual({ word: "rock'n'roll" });
  });

  it("refuses what is not a word, with the reason", () => {
    expect(normalizeWord("   ")).toEqual({ problem: "the word is empty" });
    expect(normalizeWord("a.*b")).toMatchObject({ problem: expect.stringContaining("not a word") });
    expect(normalizeWord("x".repeat(41))).toEqual({ problem: "a word is at most 40 characters" });
  });
});
