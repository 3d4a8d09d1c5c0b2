import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AnchorFeed, type AnchoredHead } from "../../src/audit/anchor-feed.ts";

describe("the anchor feed", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("tells a lone head at once, then at most one head per interval, the latest of them", async () => {
    const told: AnchoredHead[] = [];
    const feed = new AnchorFeed(async (head) => {
      told.push(head);
    }, 250);
    const pushes: Promise<void>[] = [];
    pushes.push(feed.push({ lastSeq: 1, head: "h1" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([{ lastSeq: 1, head: "h1" }]);
    // A commit every 10 ms for a second, each call finishing before the next commit.
    for (let seq = 2; seq <= 101; seq++) {
      pushes.push(feed.push({ lastSeq: seq, head: `h${seq}` }));
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.runAllTimersAsync();
    await Promise.all(pushes);
    expect(told.length).toBeLessThanOrEqual(1 + Math.ceil(1000 / 250) + 1);
    expect(told.at(-1)).toEqual({ lastSeq: 101, head: "h101" });
    expect(told.map((h) => h.lastSeq)).toEqual(
      [...told.map((h) => h.lastSeq)].sort((a, b) => a - b),
    );
  });
});
