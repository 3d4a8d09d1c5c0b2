import { describe, expect, it } from "vitest";
import {
  latencyHops,
  median,
  queueCounts,
  tallyDeliveries,
  type Post,
} from "../../bench/integrations/tally.ts";

/**
 * The integrations benchmark's counting (bench/integrations/tally.ts): a missing, doubled or
 * stray delivery must show, latency must run from the 201 to the first arrival, and the queue's
 * messages must be read off wrangler's coloured `QUEUE` lines, or the report would claim what
 * did not happen.
 */
const posted = (room: string, seq: number, answeredAt: number, measured = true): Post => ({
  room,
  seq,
  sentAt: answeredAt - 5,
  answeredAt,
  status: 201,
  measured,
});
const arrival = (path: string, room: string, seq: number, at: number) => ({
  path,
  room,
  seq,
  webhookId: `msg_${room}_${seq}`,
  at,
});

describe("tallyDeliveries", () => {
  const endpoints = (room: string) => [`/w/${room}/0`, `/w/${room}/1`];

  it("expects every acked post at every endpoint of its room, once", () => {
    const posts = [
      posted("a", 1, 1000),
      posted("a", 2, 1100),
      { room: "a", sentAt: 1200, status: 429, code: "rate_limited", measured: true },
    ];
    const arrivals = [
      arrival("/w/a/0", "a", 1, 1300),
      arrival("/w/a/1", "a", 1, 1500),
      arrival("/w/a/0", "a", 2, 1400),
      arrival("/w/a/0", "a", 2, 1450), // a second try of the same delivery
      arrival("/w/a/0", "a", 9, 1460), // no acked post has seq 9
    ];
    const t = tallyDeliveries(posts, arrivals, endpoints, { start: 0, end: 2000 });
    expect(t.expected).toBe(4);
    expect(t.delivered).toBe(3);
    expect(t.missing).toBe(1); // seq 2 never reached /w/a/1
    expect(t.duplicates).toBe(1);
    expect(t.unexpected).toBe(1);
    // 300, 500 and 300 ms from the 201s; the duplicate does not count.
    expect(t.latencyMs.n).toBe(3);
    expect(t.latencyMs.p50).toBe(300);
    expect(t.latencyMs.max).toBe(500);
  });

  it("measures latency on measured posts only, and the rate and backlog on the window", () => {
    const posts = [posted("a", 1, 100, false), posted("a", 2, 1000), posted("a", 3, 1900)];
    const arrivals = [
      arrival("/w/a/0", "a", 1, 900),
      arrival("/w/a/0", "a", 2, 1200),
      arrival("/w/a/0", "a", 3, 2600),
    ];
    const t = tallyDeliveries(posts, arrivals, (room) => [`/w/${room}/0`], {
      start: 1000,
      end: 2000,
    });
    expect(t.latencyMs.n).toBe(2);
    expect(t.latencyMs.p50).toBe(200);
    expect(t.latencyMs.max).toBe(700);
    expect(t.deliveriesPerS).toBe(1); // one first arrival inside [1000, 2000) ms
    expect(t.backlogMs).toBe(600); // the last measured delivery came 600 ms after the window
    expect(t.drainPerS).toBeNaN(); // one arrival after the window is no rate
    const drained = tallyDeliveries(
      [...posts, posted("a", 4, 1950)],
      [...arrivals, arrival("/w/a/0", "a", 4, 2500)],
      (room) => [`/w/${room}/0`],
      { start: 1000, end: 2000 },
    );
    expect(drained.drainPerS).toBeCloseTo(2 / 0.6); // two arrivals in the 600 ms after the window
  });

  it("counts the earliest arrival when tries arrive out of order", () => {
    const t = tallyDeliveries(
      [posted("a", 1, 1000)],
      [arrival("/w/a/0", "a", 1, 1800), arrival("/w/a/0", "a", 1, 1200)],
      (room) => [`/w/${room}/0`],
      { start: 0, end: 3000 },
    );
    expect(t.latencyMs.p50).toBe(200);
    expect(t.duplicates).toBe(1);
  });
});

describe("latencyHops", () => {
  it("splits a measured post's delivery at the hub's delivery and its first try", () => {
    const posts = [posted("a", 1, 1000), posted("a", 2, 1000, false)];
    const arrivals = [
      { ...arrival("/w/a/0", "a", 1, 1900), committedAt: 995 },
      { ...arrival("/w/a/0", "a", 1, 2500), committedAt: 995 }, // a later try: not the first
      { ...arrival("/w/a/0", "a", 2, 1900), committedAt: 995 }, // warm-up: not counted
    ];
    const hops = latencyHops(posts, arrivals, [
      { path: "/w/a/0", room: "a", seq: 1, createdAt: 1300, firstTryAt: 1850 },
      { path: "/w/a/0", room: "a", seq: 2, createdAt: 1300, firstTryAt: 1850 },
    ]);
    expect([hops.toHub.p50, hops.toTry.p50, hops.toReceiver.p50]).toEqual([305, 550, 50]);
    expect(hops.toHub.n).toBe(1);
  });
});

describe("queueCounts", () => {
  it("reads messages, acks and batch times per queue from wrangler's coloured lines", () => {
    const log = [
      "[wrangler:info] Ready on http://127.0.0.1:36575",
      "[wrangler:info] QUEUE edgechat-integrations \u001b[32m4/4\u001b[39m\u001b[90m (11ms)\u001b[39m",
      "[wrangler:info] POST /api/rooms/r0/messages 201 Created (12ms)",
      "[wrangler:info] \u001b[1mQUEUE\u001b[22m edgechat-integrations \u001b[33m8/10\u001b[39m (76ms)",
      "[wrangler:info] QUEUE edgechat-integrations-dlq 2/2 (3ms)",
    ].join("\n");
    const counts = queueCounts(log);
    expect(counts["edgechat-integrations"]).toMatchObject({ batches: 2, messages: 14, acked: 12 });
    expect(counts["edgechat-integrations"]!.batchMs.max).toBe(76);
    expect(counts["edgechat-integrations-dlq"]).toMatchObject({ batches: 1, messages: 2 });
    expect(queueCounts("nothing here")).toEqual({});
  });
});

describe("median", () => {
  it("is the middle value, or the mean of the two middle ones, ignoring NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});
