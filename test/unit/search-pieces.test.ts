import { describe, expect, it } from "vitest";
import { pieces } from "../../src/web/search-view.ts";

describe("what the search list shows of a hit (src/web/search-view.ts)", () => {
  it("a short text whole, with the server's matches marked again", () => {
    expect(
      pieces({
        text: "the quick fox",
        highlight: [
          { text: "the quick ", match: false },
          { text: "fox", match: true },
        ],
      }),
    ).toEqual([
      { text: "the quick ", match: false },
      { text: "fox", match: true },
    ]);
  });

  it("a voice message without text: the transcript around the matches", () => {
    const transcript = [
      { text: "meet me at the ", match: false },
      { text: "lighthouse", match: true },
    ];
    expect(pieces({ text: "", highlight: [], transcript })).toEqual(transcript);
  });

  it("a message with text keeps showing its text, even when the transcript matched", () => {
    const shown = pieces({
      text: "listen to this",
      highlight: [{ text: "listen to this", match: false }],
      transcript: [{ text: "storm", match: true }],
    });
    expect(shown).toEqual([{ text: "listen to this", match: false }]);
  });
});
