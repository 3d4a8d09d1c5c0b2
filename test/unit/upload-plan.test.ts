import { describe, expect, it } from "vitest";
import {
  afterFailure,
  allReceived,
  ApiError,
  bytesStored,
  isPassing,
  LIMITS_ATTACHMENTS,
  partsToSend,
  planParts,
} from "../../src/client/index.ts";

const MiB = 1024 * 1024;

describe("planParts", () => {
  it("cuts a 12 MiB file into two 5 MiB parts and a 2 MiB last part", () => {
    const plan = planParts(12 * MiB, LIMITS_ATTACHMENTS.partBytes);
    expect(plan).toEqual([
      { part: 1, start: 0, end: 5 * MiB },
      { part: 2, start: 5 * MiB, end: 10 * MiB },
      { part: 3, start: 10 * MiB, end: 12 * MiB },
    ]);
  });

  it("keeps every part but the last the same size, and the last no larger (R2's rule)", () => {
    for (const size of [1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 100 * MiB, 37_123_457]) {
      const plan = planParts(size, 5 * MiB);
      expect(plan.at(-1)!.end).toBe(size);
      expect(plan.length).toBe(Math.ceil(size / (5 * MiB)));
      for (const [i, slice] of plan.entries()) {
        expect(slice.part).toBe(i + 1);
        expect(slice.start).toBe(i * 5 * MiB);
        const bytes = slice.end - slice.start;
        if (i < plan.length - 1) expect(bytes).toBe(5 * MiB);
        else (expect(bytes).toBeGreaterThan(0), expect(bytes).toBeLessThanOrEqual(5 * MiB));
      }
    }
  });

  it("refuses an empty file and a part size that is not a positive integer", () => {
    expect(() => planParts(0, 5)).toThrow(RangeError);
    expect(() => planParts(10, 0)).toThrow(RangeError);
    expect(() => planParts(10, 2.5)).toThrow(RangeError);
  });
});

describe("resuming", () => {
  const plan = planParts(12 * MiB, 5 * MiB);

  it("sends only the parts the server lacks, in order", () => {
    expect(partsToSend(plan, []).map((s) => s.part)).toEqual([1, 2, 3]);
    expect(partsToSend(plan, [1]).map((s) => s.part)).toEqual([2, 3]);
    expect(partsToSend(plan, [1, 3]).map((s) => s.part)).toEqual([2]);
    expect(partsToSend(plan, [3, 2, 1])).toEqual([]);
  });

  it("counts the bytes the server holds and whether the upload may complete", () => {
    expect(bytesStored(plan, [])).toBe(0);
    expect(bytesStored(plan, [1, 3])).toBe(7 * MiB);
    expect(bytesStored(plan, [1, 2, 3])).toBe(12 * MiB);
    expect(allReceived(plan, { received: [1, 2] })).toBe(false);
    expect(allReceived(plan, { received: [1, 2, 3] })).toBe(true);
  });

  it("tries again after a dropped connection, a 5xx or a 429, and not after a refusal", () => {
    const dropped = new TypeError("fetch failed");
    expect(isPassing(dropped)).toBe(true);
    expect(isPassing(new ApiError("internal", "boom", { status: 502 }))).toBe(true);
    expect(isPassing(new ApiError("rate_limited", "slow down"))).toBe(true);
    for (const code of [
      "too_large",
      "unsupported_type",
      "quota",
      "forbidden",
      "bad_request",
    ] as const)
      expect(isPassing(new ApiError(code, code)), code).toBe(false);
    expect(isPassing(new DOMException("stopped", "AbortError"))).toBe(false);
    expect(afterFailure(dropped, 0, 8)).toBe("retry");
    expect(afterFailure(dropped, 6, 8)).toBe("retry");
    expect(afterFailure(dropped, 7, 8)).toBe("fail");
    expect(afterFailure(new ApiError("too_large", "big"), 0, 8)).toBe("fail");
  });
});
