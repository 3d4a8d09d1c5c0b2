import { describe, expect, it } from "vitest";
import { parsePoll, tokenize } from "./parse.ts";

describe("/poll's arguments", () => {
  it("reads a quoted question and quoted options", () => {
    expect(parsePoll('"Where do we eat?" "The Thai place" "Pizza, again"')).toEqual({
      question: "Where do we eat?",
      options: ["The Thai place", "Pizza, again"],
    });
  });

  it("takes single words without quotes, and apostrophes inside words", () => {
    expect(parsePoll("Lunch? pizza sushi don't")).toEqual({
      question: "Lunch?",
      options: ["pizza", "sushi", "don't"],
    });
  });

  it("takes the curly quotes phones type", () => {
    expect(parsePoll("“Ship it today?” “Yes, now” „Not yet“ «Never»")).toEqual({
      question: "Ship it today?",
      options: ["Yes, now", "Not yet", "Never"],
    });
  });

  it('reads `close` alone as closing, and a quoted "close" as a question', () => {
    expect(parsePoll("  close ")).toEqual({ close: true });
    expect(parsePoll("CLOSE")).toEqual({ close: true });
    expect(parsePoll('"close" a b')).toEqual({ question: "close", options: ["a", "b"] });
  });

  it("refuses what is not a poll, saying why", () => {
    expect(parsePoll("")).toEqual({ problem: "the poll needs a question" });
    expect(parsePoll('"Lunch?" pizza')).toEqual({
      problem: "a poll has 2 to 10 options, not 1",
    });
    expect(parsePoll("Q a b c d e f g h i j k")).toEqual({
      problem: "a poll has 2 to 10 options, not 11",
    });
    expect(parsePoll('"Lunch? pizza sushi')).toEqual({ problem: 'a quote (") is not closed' });
    expect(parsePoll('Q "" b')).toEqual({ problem: "an option is empty" });
    expect(parsePoll("Q Pizza pizza")).toEqual({ problem: '"pizza" is an option twice' });
    expect(parsePoll(`"${"q".repeat(201)}" a b`)).toEqual({
      problem: "the question is longer than 200 characters",
    });
    expect(parsePoll(`Q a ${"o".repeat(81)}`)).toEqual({
      problem: "an option is longer than 80 characters",
    });
  });

  it("splits on any whitespace and keeps emoji whole", () => {
    expect(tokenize('a\tb\n"c 🍕 d"')).toEqual({
      tokens: [
        { text: "a", quoted: false },
        { text: "b", quoted: false },
        { text: "c 🍕 d", quoted: true },
      ],
    });
  });
});
