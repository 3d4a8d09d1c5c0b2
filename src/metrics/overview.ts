import type { AdminRoom, Overview, Percentiles } from "../protocol/index.ts";
import { byRoom, isActive, recentEvents, type RoomRow } from "./room-report.ts";
import {
  addWindows,
  denseWindows,
  HISTORY_MS,
  quantile,
  WINDOW_MS,
  windowStart,
  type Window,
} from "./windows.ts";

/** What one metrics object holds for the overview. */
export type ShardView = { windows: Window[]; rooms: RoomRow[] };

const BUSIEST = 10;

const perSecond = (n: number) => n / (WINDOW_MS / 1000);
const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);

function percentiles(windows: readonly Window[], of: (w: Window) => number[]): Percentiles {
  const at = (q: number) => windows.map((window) => ms(quantile(of(window), q)));
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Every code seen in the hour, each with its rate per window (0 where it did not occur). */
function byCode(windows: readonly Window[], of: (w: Window) => Record<string, number>) {
  const codes = new Set(windows.flatMap((window) => Object.keys(of(window))));
  return Object.fromEntries(
    [...codes].sort().map((code) => [code, windows.map((w) => perSecond(of(w)[code] ?? 0))]),
  );
}

/**
 * The admin overview at `now` from every metrics object's windows and rooms: the last hour's
 * complete windows (the current one is still filling), the gauges now, and the busiest rooms.
 */
export function buildOverview(
  shards: readonly ShardView[],
  now: number,
  database: { replicaLagMs: number | null },
): Overview {
  const last = windowStart(now) - WINDOW_MS;
  const first = last - HISTORY_MS + WINDOW_MS;
  const windows = addWindows(shards.map((shard) => denseWindows(shard.windows, first, last)));
  const rooms = byRoom(shards.flatMap((shard) => shard.rooms));
  const latest = windows.at(-1);
  return {
    at: now,
    now: {
      roomsActive: rooms.filter((row) => isActive(row, now)).length,
      socketsOpen: rooms.reduce((sum, row) => sum + row.chat + row.graphql, 0),
      messagesPerSecond: perSecond(latest?.messages ?? 0),
      commandsPerSecond: perSecond(latest?.commands ?? 0),
      flushBacklog: rooms.reduce((sum, row) => sum + row.backlog, 0),
      replicaLagMs: database.replicaLagMs,
    },
    series: {
      windowSeconds: WINDOW_MS / 1000,
      at: windows.map((window) => window.start + WINDOW_MS),
      messagesPerSecond: windows.map((window) => perSecond(window.messages)),
      commandsPerSecond: windows.map((window) => perSecond(window.commands)),
      deliveriesPerSecond: windows.map((window) => perSecond(window.deliveries)),
      refusalsPerSecond: byCode(windows, (window) => window.refusals),
      errorsPerSecond: byCode(windows, (window) => window.errors),
      socketsOpen: windows.map((window) => window.sockets),
      roomsActive: windows.map((window) => window.rooms),
      commitMs: percentiles(windows, (window) => window.commit),
      fanoutMs: percentiles(windows, (window) => window.fanout),
    },
    busiestRooms: busiest(rooms, now).slice(0, BUSIEST),
  };
}

/** The rooms by events in the last five minutes, then sockets open, then name. */
export function busiest(rooms: readonly RoomRow[], now: number) {
  return rooms
    .map((row) => ({
      name: row.name,
      socketsOpen: row.chat + row.graphql,
      recentEvents: recentEvents(row, now),
      lastActiveAt: row.lastEventAt ?? row.reportedAt,
    }))
    .filter((room) => room.recentEvents > 0 || room.socketsOpen > 0)
    .sort(
      (a, b) =>
        b.recentEvents - a.recentEvents ||
        b.socketsOpen - a.socketsOpen ||
        a.name.localeCompare(b.name),
    );
}

/**
 * Every room the instance knows (`names`, from the directory) with its activity where a room
 * (or one of its shards) has reported; a room that never reported is idle.
 */
export function adminRooms(
  names: readonly string[],
  rows: readonly RoomRow[],
  now: number,
): AdminRoom[] {
  const reported = new Map(byRoom(rows).map((row) => [row.name, row]));
  const all = new Set([...names, ...reported.keys()]);
  return [...all].map((name) => {
    const row = reported.get(name);
    return {
      name,
      socketsOpen: row ? row.chat + row.graphql : 0,
      recentEvents: row ? recentEvents(row, now) : 0,
      lastActiveAt: row ? (row.lastEventAt ?? row.reportedAt) : null,
    };
  });
}
