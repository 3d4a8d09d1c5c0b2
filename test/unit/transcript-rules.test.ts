import { describe, expect, it } from "vitest";
import {
  beyondClaimS,
  fitTranscript,
  GIVE_UP_AFTER_MS,
  retryDelayMs,
  RETRY_MAX_MS,
} from "../../src/media/transcript-rules.ts";
import { LIMITS_ATTACHMENTS, TranscriptData } from "../../src/protocol/attachments.ts";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";

describe("retrying a transcription (transcript-rules.ts)", () => {
  it("doubles from 5 s up to 10 minutes", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 0))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(8, 0)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(60, 0)).toBe(RETRY_MAX_MS);
  });

  it("gives up a day after the post", () => {
    expect(retryDelayMs(3, GIVE_UP_AFTER_MS - 1)).toBe(20_000);
    expect(retryDelayMs(3, GIVE_UP_AFTER_MS)).toBeUndefined();
  });
});

describe("a recording heard longer than its uploader said (beyondClaimS)", () => {
  it("is within the claim up to 2 s, or 10 % of a long recording", () => {
    expect(beyondClaimS(3000, 3.4)).toBeUndefined();
    expect(beyondClaimS(3000, 5)).toBeUndefined();
    expect(beyondClaimS(3000, 2)).toBeUndefined();
    expect(beyondClaimS(60_000, 66)).toBeUndefined();
    expect(beyondClaimS(300_000, 330)).toBeUndefined();
  });

  it("says by how much a longer one overran, in seconds", () => {
    expect(beyondClaimS(3000, 5.01)).toBe(2);
    expect(beyondClaimS(60_000, 75)).toBe(15);
    expect(beyondClaimS(1000, 3600)).toBe(3599);
  });

  it("says nothing when the engine gave no length", () => {
    expect(beyondClaimS(3000, undefined)).toBeUndefined();
    expect(beyondClaimS(3000, Number.NaN)).toBeUndefined();
  });
});

describe("what an engine heard, as the event logs it (fitTranscript)", () => {
  it("trims the text and keeps segments, language and engine", () => {
    const fitted = fitTranscript(
      {
        text: "  we will meet  ",
        segments: [{ start: 0, end: 1.5, text: "we will meet" }],
        language: "en",
      },
      7,
      ID,
      "pocketsphinx",
    );
    expect(fitted).toEqual({
      messageId: 7,
      attachmentId: ID,
      text: "we will meet",
      segments: [{ start: 0, end: 1.5, text: "we will meet" }],
      language: "en",
      engine: "pocketsphinx",
    });
    expect(TranscriptData.safeParse(fitted).success).toBe(true);
  });

  it("cuts what is over the contract's limits so the event always parses", () => {
    const long = "é".repeat(LIMITS_ATTACHMENTS.transcriptChars + 50);
    const segments = Array.from({ length: LIMITS_ATTACHMENTS.transcriptSegments + 10 }, (_, i) => ({
      start: i,
      end: i + 1,
      text: "word",
    }));
    const fitted = fitTranscript({ text: long, segments, language: "a-very-long-tag" }, 1, ID, "x");
    expect([...fitted.text]).toHaveLength(LIMITS_ATTACHMENTS.transcriptChars);
    expect(fitted.segments).toHaveLength(LIMITS_ATTACHMENTS.transcriptSegments);
    expect(fitted.language).toBeUndefined();
    expect(TranscriptData.safeParse(fitted).success).toBe(true);
  });

  it("drops segments with times that are not numbers, and orders an end before its start", () => {
    const fitted = fitTranscript(
      {
        text: "hi",
        segments: [
          { start: Number.NaN, end: 1, text: "a" },
          { start: -1, end: 1, text: "b" },
          { start: 2, end: 1, text: "c" },
        ],
      },
      1,
      ID,
      "x",
    );
    expect(fitted.segments).toEqual([{ start: 2, end: 2, text: "c" }]);
  });

  it("leaves an empty transcript empty: nothing was heard", () => {
    const fitted = fitTranscript({ text: "   " }, 1, ID, "x");
    expect(fitted.text).toBe("");
    expect(fitted.segments).toBeUndefined();
  });
});
