import { CursorOutbox } from "../cursor-outbox.ts";
import type { RoomEvent } from "../protocol/index.ts";
import type { EventLog } from "./log.ts";

/**
 * Where the room's events go on to (Postgres, wired in src/index.ts): writes a contiguous batch
 * exactly once in effect and answers how far the sink's copy of the room now reaches.
 */
export type EventSink = { write(room: string, batch: readonly RoomEvent[]): Promise<number> };

/** The room's side of the flush to Postgres: a cursor into its own log (src/cursor-outbox.ts). */
export function roomOutbox(
  sql: SqlStorage,
  log: EventLog,
  sink: EventSink | undefined,
  room: () => string,
  traced: (rows: number, write: () => Promise<number>) => Promise<number> = (_, write) => write(),
): CursorOutbox<RoomEvent> {
  return new CursorOutbox(sql, {
    name: () => `room ${room()}`,
    read: (after, limit) => log.range(after, limit),
    lastSeq: () => log.lastSeq,
    // `traced`: the batch's db.flush span (telemetry.ts).
    write: sink && ((batch) => traced(batch.length, () => sink.write(room(), batch))),
  });
}
