import { WINDOW_MS } from "./windows.ts";

/** How long an event keeps a room "active", and the reach of "recent events". */
export const ACTIVE_MS = 300_000;

/** What a room tells the metrics object with each push, beside its counts. */
export type RoomReport = {
  name: string;
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
