import { WINDOW_MS } from "./windows.ts";

/** How long an event keeps a room "active", and the reach of "recent events". */
export const ACTIVE_MS = 300_000;

/** What a room (or one of its fan-out shards) tells the metrics object with each push. */
export type RoomReport = {
  /** The room's name. */
  name: string;
  /** Who reports: `room`, or `shard-N` for a big room's fan-out shard N (it holds sockets only). */
  part: string;
  sockets: { chat: number; graphql: number };
  /** Events not yet in Postgres (0 without Postgres), and when the oldest was appended. */
  backlog: number;
  oldestUnflushedAt: number | null;
  /** Events appended since the last push. */
  events: number;
};

/** A room as the metrics object keeps it: its last report, and its events per window for five minutes. */
export type RoomRow = {
  name: string;
  part: string;
  chat: number;
  graphql: number;
  backlog: number;
  oldestUnflushedAt: number | null;
  lastEventAt: number | null;
  reportedAt: number;
  /** Events per window within ACTIVE_MS. */
  recent: { start: number; events: number }[];
};

/** The row after `report` arrived at `now` (`row` is the one before, if any). */
export function applyReport(row: RoomRow | undefined, report: RoomReport, now: number): RoomRow {
  const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  const recent = (row?.recent ?? []).filter((window) => window.start > now - ACTIVE_MS);
  if (report.events > 0) {
    const last = recent.at(-1);
    if (last?.start === start) last.events += report.events;
    else recent.push({ start, events: report.events });
  }
  return {
    name: report.name,
    part: report.part,
    chat: report.sockets.chat,
    graphql: report.sockets.graphql,
    backlog: report.backlog,
    oldestUnflushedAt: report.oldestUnflushedAt,
    lastEventAt: report.events > 0 ? now : (row?.lastEventAt ?? null),
    reportedAt: now,
    recent,
  };
}

export const recentEvents = (row: RoomRow, now: number) =>
  row.recent
    .filter((window) => window.start > now - ACTIVE_MS)
    .reduce((sum, window) => sum + window.events, 0);

export const isActive = (row: RoomRow, now: number) =>
  row.chat + row.graphql > 0 || (row.lastEventAt ?? -Infinity) > now - ACTIVE_MS;

/** A row's key in its metrics object: one per room and part. */
export const reporterKey = (row: { name: string; part: string }) =>
  row.part === "room" ? row.name : `${row.name}/${row.part}`;

/** The rows of each room's parts (the room and its shards) as one row per room. */
export function byRoom(rows: readonly RoomRow[]): RoomRow[] {
  const rooms = new Map<string, RoomRow>();
  for (const row of rows) {
    const into = rooms.get(row.name);
    if (!into) {
      rooms.set(row.name, { ...row, part: "room", recent: [...row.recent] });
      continue;
    }
    into.chat += row.chat;
    into.graphql += row.graphql;
    into.backlog += row.backlog;
    into.oldestUnflushedAt = earliest(into.oldestUnflushedAt, row.oldestUnflushedAt);
    into.lastEventAt = latest(into.lastEventAt, row.lastEventAt);
    into.reportedAt = Math.max(into.reportedAt, row.reportedAt);
    into.recent.push(...row.recent);
  }
  return [...rooms.values()];
}

const earliest = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.min(a, b);
const latest = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.max(a, b);
