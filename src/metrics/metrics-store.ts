import { DurableObject } from "cloudflare:workers";
import { addDelta, emptyDelta, seriesKey, type Delta } from "./meter.ts";
import {
  applyReport,
  byRoom,
  isActive,
  reporterKey,
  type RoomReport,
  type RoomRow,
} from "./room-report.ts";
import {
  emptyWindow,
  foldDelta,
  HISTORY_MS,
  WINDOW_MS,
  windowStart,
  type Window,
} from "./windows.ts";
import type { ShardView } from "./overview.ts";

/** Rooms that have not reported for this long are forgotten (docs/observability.md, limits). */
export const FORGET_ROOM_MS = 24 * 3_600_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS totals (key TEXT PRIMARY KEY, data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS rooms (name TEXT PRIMARY KEY, data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, data TEXT NOT NULL);
`;

/**
 * One of the instance's metrics objects (METRICS_SHARDS of them): rooms push their counts and
 * their gauges here on their alarm, isolates push theirs after requests, and `/metrics` and the
 * admin overview read every shard and add them up. It keeps the running totals (what Prometheus
 * scrapes), each room's last report, and the last hour in windows, all in its SQLite storage.
 */
export class MetricsStore extends DurableObject<Env> {
  readonly #totals: Delta = emptyDelta();
  readonly #rooms = new Map<string, RoomRow>();
  readonly #windows = new Map<number, Window>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(SCHEMA);
    for (const row of sql.exec<{ key: string; data: string }>("SELECT key, data FROM totals")) {
      const value: unknown = JSON.parse(row.data);
      if (typeof value === "number") this.#totals.counters[row.key] = value;
      else this.#totals.histograms[row.key] = value as Delta["histograms"][string];
    }
    for (const row of sql.exec<{ data: string }>("SELECT data FROM rooms")) {
      const room = JSON.parse(row.data) as RoomRow;
      this.#rooms.set(reporterKey(room), room);
    }
    for (const row of sql.exec<{ data: string }>("SELECT data FROM windows")) {
      const window = JSON.parse(row.data) as Window;
      this.#windows.set(window.start, window);
    }
  }

  /** Counts from a room or an isolate, with the room's report when a room pushes. */
  async push(delta: Delta, report?: RoomReport): Promise<void> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const counted = seriesKey("metrics_pushes_total", { from: report ? "room" : "isolate" });
    delta.counters[counted] = (delta.counters[counted] ?? 0) + 1;
    addDelta(this.#totals, delta);
    for (const key of Object.keys(delta.counters))
      sql.exec(
        "INSERT OR REPLACE INTO totals VALUES (?, ?)",
        key,
        String(this.#totals.counters[key]),
      );
    for (const key of Object.keys(delta.histograms))
      sql.exec(
        "INSERT OR REPLACE INTO totals VALUES (?, ?)",
        key,
        JSON.stringify(this.#totals.histograms[key]),
      );
    if (report) {
      const key = reporterKey(report);
      const row = applyReport(this.#rooms.get(key), report, now);
      this.#rooms.set(key, row);
      sql.exec("INSERT OR REPLACE INTO rooms VALUES (?, ?)", key, JSON.stringify(row));
    }
    this.#intoWindow(delta, now);
  }

  /** Everything `/metrics` and the overview read: the totals, the rooms' parts and the windows. */
  async read(): Promise<{ totals: Delta } & ShardView> {
    this.#forget(Date.now());
    return {
      totals: this.#totals,
      rooms: [...this.#rooms.values()],
      windows: [...this.#windows.values()],
    };
  }

  #intoWindow(delta: Delta, now: number): void {
    const start = windowStart(now);
    const window = this.#windows.get(start) ?? emptyWindow(start);
    foldDelta(window, delta);
    const rooms = byRoom([...this.#rooms.values()]);
    window.sockets = rooms.reduce((sum, row) => sum + row.chat + row.graphql, 0);
    window.rooms = rooms.filter((row) => isActive(row, now)).length;
    this.#windows.set(start, window);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO windows VALUES (?, ?)",
      start,
      JSON.stringify(window),
    );
    this.#forget(now);
  }

  /** Drops windows older than the hour and rooms silent for FORGET_ROOM_MS. */
  #forget(now: number): void {
    const sql = this.ctx.storage.sql;
    const oldest = windowStart(now) - HISTORY_MS - WINDOW_MS;
    for (const start of this.#windows.keys()) if (start < oldest) this.#windows.delete(start);
    sql.exec("DELETE FROM windows WHERE start < ?", oldest);
    for (const [key, row] of this.#rooms)
      if (row.reportedAt < now - FORGET_ROOM_MS) {
        this.#rooms.delete(key);
        sql.exec("DELETE FROM rooms WHERE name = ?", key);
      }
  }
}
