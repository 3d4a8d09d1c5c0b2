/**
 * The flush function alone, and the ceiling beside it.
 *  - flush: `flushEvents(db, room, batch)` (src/db/flush.ts) from Node with synthetic events,
 *    batches of 500 (the room's FLUSH_BATCH), M rooms in parallel, each room one batch at a time
 *    (as a room's alarm does), for `seconds`.
 *  - ceiling: the same event rows as one multi-row INSERT of 500 per statement into a plain
 *    table with the events table's columns (no keys, no indexes, no transaction around it),
 *    same driver (drizzle over @neondatabase/serverless), same proxy, same parallelism.
 * Connections: `per-batch` opens one short connection per batch exactly as the room's outbox
 * does (withDb, src/db/connect.ts); `kept` keeps one open connection per room.
 */
import { sql } from "drizzle-orm";
import { bigint, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { withDb, type Db } from "../../src/db/connect.ts";
import { eventRow, flushEvents } from "../../src/db/flush.ts";
/** src/room/outbox.ts FLUSH_BATCH (not imported: that module needs the Workers types). */
const FLUSH_BATCH = 500;
import type { RoomEvent } from "../../src/protocol/index.ts";
import { RoomLog, type EventMix } from "./synthetic.ts";
import { describe, dist, openPool, type Dist } from "./util.ts";

export const PLAIN_DDL = `CREATE TABLE IF NOT EXISTS bench_plain_events (
  room text NOT NULL, seq bigint NOT NULL, id text NOT NULL, type text NOT NULL,
  at bigint NOT NULL, actor_id text NOT NULL, actor_name text NOT NULL, data jsonb NOT NULL)`;

const plainEvents = pgTable("bench_plain_events", {
  room: text("room").notNull(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  id: text("id").notNull(),
  type: text("type").notNull(),
  at: bigint("at", { mode: "number" }).notNull(),
  actorId: text("actor_id").notNull(),
  actorName: text("actor_name").notNull(),
  data: jsonb("data").notNull(),
});

export type Writer = "flush" | "ceiling";
export type Connections = "per-batch" | "kept";

export type DirectConfig = {
  writer: Writer;
  rooms: number;
  connections: Connections;
  mix: EventMix;
  /** Whether the same 20 users act in every room (see RoomLog), or each room has its own. */
  sharedUsers: boolean;
  seconds: number;
};

export type DirectResult = DirectConfig & {
  label: string;
  from: number;
  to: number;
  events: number;
  batches: number;
  eventsPerS: number;
  batchMs: Dist;
  errors: number;
  firstError: string | null;
};

let runCounter = 0;

async function writeBatch(db: Db, writer: Writer, room: string, batch: RoomEvent[]): Promise<void> {
  if (writer === "flush") {
    const cursor = await flushEvents(db, room, batch);
    if (cursor !== batch.at(-1)!.seq)
      throw new Error(`flush of ${room} returned cursor ${cursor}, expected ${batch.at(-1)!.seq}`);
    return;
  }
  await db.insert(plainEvents).values(batch.map((event) => eventRow(room, event)));
}

/** One configuration; events count when their batch's statement/transaction returned in the window. */
export async function runDirect(primaryUrl: string, config: DirectConfig): Promise<DirectResult> {
  runCounter += 1;
  const label = `${config.writer} ${config.rooms} room(s) ${config.mix} ${config.connections}${config.sharedUsers ? " shared-users" : ""}`;
  const logs = Array.from(
    { length: config.rooms },
    (_, i) =>
      new RoomLog(
        `direct-${runCounter}-${config.writer}-${i}`,
        config.mix,
        runCounter * 1000 + i,
        config.sharedUsers,
      ),
  );
  const kept = config.connections === "kept" ? logs.map(() => openPool(primaryUrl)) : [];
  const latencies: number[] = [];
  let events = 0;
  let batches = 0;
  let errors = 0;
  let firstError: string | null = null;
  const from = Date.now();
  const end = from + config.seconds * 1000;
  try {
    await Promise.all(
      logs.map(async (log, i) => {
        let retry: RoomEvent[] | undefined;
        while (Date.now() < end) {
          // A failed batch is sent again, as the room's outbox does (it resends from its cursor).
          const batch = retry ?? log.next(FLUSH_BATCH);
          retry = undefined;
          const started = performance.now();
          try {
            if (config.connections === "kept")
              await writeBatch(kept[i]!.db, config.writer, log.room, batch);
            else await withDb(primaryUrl, (db) => writeBatch(db, config.writer, log.room, batch));
          } catch (error) {
            errors += 1;
            firstError ??= describe(error);
            if (errors > 200) throw error;
            retry = batch;
            await new Promise((resolve) => setTimeout(resolve, 250));
            continue;
          }
          latencies.push(performance.now() - started);
          if (Date.now() <= end) {
            events += batch.length;
            batches += 1;
          }
        }
      }),
    );
  } finally {
    await Promise.all(kept.map((k) => k.close()));
  }
  const to = Date.now();
  return {
    ...config,
    label,
    from,
    to,
    events,
    batches,
    eventsPerS: events / config.seconds,
    batchMs: dist(latencies),
    errors,
    firstError,
  };
}

export type ConnectCost = { perConnectionMs: Dist; keptRoundTripMs: Dist };

/**
 * What a short connection costs, sequentially on an otherwise idle cluster: `withDb` + one
 * `SELECT 1` (WebSocket to the proxy, TCP to Postgres, SCRAM, a new backend), against the same
 * `SELECT 1` on a kept-open connection.
 */
export async function measureConnect(url: string, n = 30): Promise<ConnectCost> {
  const fresh: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await withDb(url, (db) => db.execute(sql`SELECT 1`));
    fresh.push(performance.now() - t0);
  }
  const kept = openPool(url);
  const round: number[] = [];
  try {
    await kept.pool.query("SELECT 1");
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await kept.pool.query("SELECT 1");
      round.push(performance.now() - t0);
    }
  } finally {
    await kept.close();
  }
  return { perConnectionMs: dist(fresh), keptRoundTripMs: dist(round) };
}
