/**
 * The integrations benchmark's counting, pure (test/unit/bench-integrations.test.ts): which
 * acked posts reached which endpoint, how late, how often; and what the local queue consumed,
 * read from `wrangler dev`'s `QUEUE` lines.
 */
import { percentiles, type Percentiles } from "../util.ts";

/** One post of the bench: when it went out and what the server answered. */
export type Post = {
  room: string;
  sentAt: number;
  /** When the answer came back (ms, bench/util.ts `now()`). */
  answeredAt?: number;
  /** 201: the message's seq (the commit). */
  seq?: number;
  /** The HTTP status, or 0 when none came (a network error or the bound). */
  status?: number;
  /** The error code of a refusal (`rate_limited`, …). */
  code?: string;
  /** Sent inside the measured window (not the warm-up). */
  measured: boolean;
};

export type ArrivalLike = {
  path: string;
  room: string;
  seq: number;
  webhookId: string;
  at: number;
  /** The event's commit time (the room's clock). */
  committedAt?: number;
};

export type DeliveryTally = {
  /** Acked posts × their room's endpoints. */
  expected: number;
  /** Of those, how many arrived at least once. */
  delivered: number;
  missing: number;
  /** Arrivals beyond the first of the same event at the same endpoint. */
  duplicates: number;
  /** Arrivals of no acked post (a post that timed out but was stored, say). */
  unexpected: number;
  /** From a measured post's 201 to each of its deliveries' first arrival. */
  latencyMs: Percentiles;
  /** Arrivals (first ones) within the measured window, per second. */
  deliveriesPerS: number;
  /** From the window's end to the last first arrival of a measured post (the backlog left). */
  backlogMs: number;
  /** First arrivals after the window's end per second until the last one: how fast a backlog drains. */
  drainPerS: number;
};

const key = (path: string, room: string, seq: number) => `${path}\u0000${room}\u0000${seq}`;

/**
 * Matches arrivals to acked posts: each acked post must reach every endpoint of its room once.
 * `endpoints(room)` names those endpoints' paths. Latency counts measured posts only; the
 * delivery rate counts first arrivals inside [start, end).
 */
export function tallyDeliveries(
  posts: readonly Post[],
  arrivals: readonly ArrivalLike[],
  endpoints: (room: string) => readonly string[],
  window: { start: number; end: number },
): DeliveryTally {
  const first = new Map<string, number>();
  let duplicates = 0;
  for (const a of arrivals) {
    const k = key(a.path, a.room, a.seq);
    const seen = first.get(k);
    if (seen === undefined) first.set(k, a.at);
    else {
      duplicates += 1;
      if (a.at < seen) first.set(k, a.at);
    }
  }
  const latencies: number[] = [];
  const matched = new Set<string>();
  let expected = 0;
  let delivered = 0;
  let lastMeasured = -Infinity;
  for (const post of posts) {
    if (post.seq === undefined || post.answeredAt === undefined) continue;
    for (const path of endpoints(post.room)) {
      expected += 1;
      const k = key(path, post.room, post.seq);
      const at = first.get(k);
      if (at === undefined) continue;
      delivered += 1;
      matched.add(k);
      if (!post.measured) continue;
      latencies.push(at - post.answeredAt);
      lastMeasured = Math.max(lastMeasured, at);
    }
  }
  let inWindow = 0;
  let after = 0;
  let last = -Infinity;
  for (const at of first.values()) {
    if (at >= window.start && at < window.end) inWindow += 1;
    if (at >= window.end) [after, last] = [after + 1, Math.max(last, at)];
  }
  return {
    expected,
    delivered,
    missing: expected - delivered,
    duplicates,
    unexpected: first.size - matched.size,
    latencyMs: percentiles(latencies),
    deliveriesPerS: inWindow / ((window.end - window.start) / 1000),
    backlogMs: Number.isFinite(lastMeasured) ? Math.max(0, lastMeasured - window.end) : NaN,
    drainPerS: after > 1 ? after / ((last - window.end) / 1000) : NaN,
  };
}

/** A delivery as its hub's log has it: when the hub made it, when its first try began. */
export type LoggedDelivery = {
  path: string;
  room: string;
  seq: number;
  createdAt: number;
  firstTryAt?: number;
};

export type LatencyHops = {
  /** The commit to the hub's delivery: the feed's 100 ms, the room-events message's queue wait, `accept`. */
  toHub: Percentiles;
  /** The hub's delivery to its first try: the delivery message's queue wait, `prepareTry`. */
  toTry: Percentiles;
  /** The try's start to the receiver: signing, the request. */
  toReceiver: Percentiles;
};

/**
 * Where a delivery's time went, per hop, for the deliveries of measured posts: the room's,
 * the hub's and the consumer's clocks (workerd's Date.now(), which moves at I/O) against the
 * receiver's. Every clock is this machine's wall clock.
 */
export function latencyHops(
  posts: readonly Post[],
  arrivals: readonly ArrivalLike[],
  logged: readonly LoggedDelivery[],
): LatencyHops {
  const measured = new Set(
    posts.filter((p) => p.measured && p.seq !== undefined).map((p) => `${p.room}\u0000${p.seq}`),
  );
  const first = new Map<string, ArrivalLike>();
  for (const a of arrivals) {
    const k = key(a.path, a.room, a.seq);
    const seen = first.get(k);
    if (!seen || a.at < seen.at) first.set(k, a);
  }
  const toHub: number[] = [];
  const toTry: number[] = [];
  const toReceiver: number[] = [];
  for (const d of logged) {
    if (!measured.has(`${d.room}\u0000${d.seq}`)) continue;
    const arrival = first.get(key(d.path, d.room, d.seq));
    if (arrival?.committedAt !== undefined) toHub.push(d.createdAt - arrival.committedAt);
    if (d.firstTryAt !== undefined) {
      toTry.push(d.firstTryAt - d.createdAt);
      if (arrival) toReceiver.push(arrival.at - d.firstTryAt);
    }
  }
  return {
    toHub: percentiles(toHub),
    toTry: percentiles(toTry),
    toReceiver: percentiles(toReceiver),
  };
}

/** What a queue's consumer was handed, from miniflare's `QUEUE <name> <acked>/<total> (<ms>ms)`. */
export type QueueCounts = {
  batches: number;
  /** Messages handed to the consumer (a retried message counts each time). */
  messages: number;
  /** Of those, acked (the rest were retried or dead-lettered). */
  acked: number;
  /** The consumer's time per batch. */
  batchMs: Percentiles;
};

// wrangler colours its output even into a file.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const QUEUE_LINE = /\bQUEUE (\S+) (\d+)\/(\d+)(?: \((\d+)ms\))?/;

/** The `QUEUE` lines of a `wrangler dev --log-level info` log, per queue. */
export function queueCounts(log: string): Record<string, QueueCounts> {
  const raw = new Map<string, { batches: number; messages: number; acked: number; ms: number[] }>();
  for (const line of log.split("\n")) {
    const m = QUEUE_LINE.exec(line.replace(ANSI, ""));
    if (!m) continue;
    const q = raw.get(m[1]!) ?? { batches: 0, messages: 0, acked: 0, ms: [] };
    q.batches += 1;
    q.acked += Number(m[2]);
    q.messages += Number(m[3]);
    if (m[4] !== undefined) q.ms.push(Number(m[4]));
    raw.set(m[1]!, q);
  }
  return Object.fromEntries(
    [...raw].map(([name, q]) => [
      name,
      { batches: q.batches, messages: q.messages, acked: q.acked, batchMs: percentiles(q.ms) },
    ]),
  );
}

/** The middle value, NaN for none (non-numbers dropped). */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
