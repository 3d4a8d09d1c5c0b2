import { BUCKETS } from "./catalogue.ts";
import { metricOf, type Delta } from "./meter.ts";

/** The overview's resolution and reach: one window per 10 s, the last hour. */
export const WINDOW_MS = 10_000;
export const HISTORY_MS = 3_600_000;

/**
 * What one metrics object saw in one window, for the overview's charts: the activity counted
 * in it (by when it was pushed, so a room's counts land up to one push interval late), and the
 * gauges as they stood at its last push.
 */
export type Window = {
  start: number;
  messages: number;
  commands: number;
  deliveries: number;
  refusals: Record<string, number>;
  errors: Record<string, number>;
  commit: number[];
  fanout: number[];
  sockets: number;
  rooms: number;
};

export const windowStart = (at: number) => Math.floor(at / WINDOW_MS) * WINDOW_MS;

export const emptyWindow = (start: number): Window => ({
  start,
  messages: 0,
  commands: 0,
  deliveries: 0,
  refusals: {},
  errors: {},
  commit: Array.from({ length: BUCKETS.length + 1 }, () => 0),
  fanout: Array.from({ length: BUCKETS.length + 1 }, () => 0),
  sockets: 0,
  rooms: 0,
});

/** The value of label `label` in series key `key`. */
export function labelOf(key: string, label: string): string | undefined {
  const match = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`).exec(key);
  return match?.[1]?.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

const bump = (counts: Record<string, number>, key: string, by: number) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** Adds the overview's share of `delta` to `window`. */
export function foldDelta(window: Window, delta: Delta): void {
  for (const [key, value] of Object.entries(delta.counters)) {
    switch (metricOf(key)) {
      case "events_appended_total":
        if (labelOf(key, "type") === "message.posted") window.messages += value;
        break;
      case "commands_total": {
        window.commands += value;
        const outcome = labelOf(key, "outcome") ?? "ok";
        if (outcome !== "ok") bump(window.refusals, outcome, value);
        break;
      }
      case "refusals_total":
        bump(window.refusals, labelOf(key, "reason") ?? "unknown", value);
        break;
      case "deliveries_total":
        window.deliveries += value;
        break;
      case "api_errors_total":
        bump(window.errors, labelOf(key, "code") ?? "unknown", value);
        break;
      default:
    }
  }
  for (const [key, counts] of Object.entries(delta.histograms)) {
    const into =
      metricOf(key) === "commit_duration_seconds"
        ? window.commit
        : metricOf(key) === "fanout_duration_seconds"
          ? window.fanout
          : undefined;
    counts.buckets.forEach((n, i) => into && (into[i] = (into[i] ?? 0) + n));
  }
}

/**
 * The `q` quantile (0..1) of bucket counts, in seconds, interpolated linearly inside its bucket
 * as Prometheus' histogram_quantile does; the top bucket's lower bound when it falls in +Inf;
 * null when there are no observations.
 */
export function quantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (below + n >= rank && n > 0) {
      if (i >= BUCKETS.length) return BUCKETS.at(-1)!;
      const lower = i === 0 ? 0 : BUCKETS[i - 1]!;
      return lower + (BUCKETS[i]! - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return BUCKETS.at(-1)!;
}

/**
 * One metrics object's windows from `from` to `to` (starts), one per WINDOW_MS: a window it has
 * no record of saw no activity, and its gauges stood where the window before left them (a room
 * that goes quiet keeps its sockets open; it reports only when something changes).
 */
export function denseWindows(windows: readonly Window[], from: number, to: number): Window[] {
  const byStart = new Map(windows.map((window) => [window.start, window]));
  let gauges = { sockets: 0, rooms: 0 };
  for (const window of windows) if (window.start < from) gauges = window;
  const dense: Window[] = [];
  for (let start = from; start <= to; start += WINDOW_MS) {
    const window = byStart.get(start) ?? { ...emptyWindow(start), ...pick(gauges) };
    gauges = window;
    dense.push(window);
  }
  return dense;
}

const pick = ({ sockets, rooms }: { sockets: number; rooms: number }) => ({ sockets, rooms });

/** Dense windows of several metrics objects (same starts) added up: each holds its own rooms. */
export function addWindows(shards: readonly (readonly Window[])[]): Window[] {
  const [first, ...rest] = shards;
  if (!first) return [];
  return first.map((window, i) => {
    const into = structuredClone(window);
    for (const other of rest.map((shard) => shard[i]!)) {
      into.messages += other.messages;
      into.commands += other.commands;
      into.deliveries += other.deliveries;
      for (const [code, n] of Object.entries(other.refusals)) bump(into.refusals, code, n);
      for (const [code, n] of Object.entries(other.errors)) bump(into.errors, code, n);
      other.commit.forEach((n, j) => (into.commit[j]! += n));
      other.fanout.forEach((n, j) => (into.fanout[j]! += n));
      into.sockets += other.sockets;
      into.rooms += other.rooms;
    }
    return into;
  });
}
