import { describe, expect, it } from "vitest";
import { COMMAND_RATE, take, tokenWaitMs, type Bucket } from "../../src/protocol/index.ts";
import { Limiter } from "../../src/room/rate-limit.ts";

describe("token bucket", () => {
  it("allows a burst of 40 at once, then refuses", () => {
    let bucket: Bucket | undefined;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 45; i++) {
      const result = take(bucket, COMMAND_RATE, 1_000);
      bucket = result.bucket;
      outcomes.push(result.allowed);
    }
    expect(outcomes.filter(Boolean)).toHaveLength(40);
    expect(outcomes.slice(40)).toEqual([false, false, false, false, false]);
  });

  it("refills at 20 a second and never above the burst", () => {
    let bucket: Bucket = { tokens: 0, at: 0 };
    bucket = take(bucket, COMMAND_RATE, 500).bucket; // 10 tokens back, one taken
    expect(bucket.tokens).toBeCloseTo(9);
    expect(take({ tokens: 0, at: 0 }, COMMAND_RATE, 3_600_000).bucket.tokens).toBe(39);
  });

  it("sustains exactly the rate: 20 commands a second for 10 s", () => {
    const limiter = new Limiter({ perSecond: 20, burst: 1 });
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 50) if (limiter.allow("c", t)) allowed += 1;
    expect(allowed).toBe(200);
  });

  it("does not refill from a clock that goes backwards", () => {
    const bucket = take({ tokens: 0.5, at: 1_000 }, COMMAND_RATE, 900);
    expect(bucket.allowed).toBe(false);
  });

  it("says when the next token is back", () => {
    expect(tokenWaitMs({ tokens: 0, at: 0 }, COMMAND_RATE, 0)).toBe(50);
    expect(tokenWaitMs({ tokens: 0.5, at: 0 }, { perSecond: 0.1, burst: 5 }, 0)).toBe(5000);
    expect(tokenWaitMs({ tokens: 0, at: 0 }, COMMAND_RATE, 50)).toBe(0);
  });

  it("keeps one bucket per key and forgets it", () => {
    const limiter = new Limiter({ perSecond: 1, burst: 1 });
    expect(limiter.allow("a", 0)).toBe(true);
    expect(limiter.allow("a", 0)).toBe(false);
    expect(limiter.allow("b", 0)).toBe(true);
    limiter.forget("a");
    expect(limiter.allow("a", 0)).toBe(true);
  });
});
