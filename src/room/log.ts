import { RoomEvent, type NewEvent, type UserRef } from "../protocol/index.ts";
import { project } from "./project.ts";

type EventRow = {
  seq: number;
  id: string;
  type: string;
  at: number;
  actor_id: string;
  actor_name: string;
  data: string;
};

/**
 * The room's append-only event log. `seq` is the SQLite rowid: contiguous because rows are
 * only ever appended, one at a time, inside the command's transaction, and never deleted.
 */
export class EventLog {
  readonly #sql: SqlStorage;
  #lastSeq: number;
  #lastAt: number;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    const last = sql
      .exec<{ seq: number; at: number }>("SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    this.#lastSeq = last?.seq ?? 0;
    this.#lastAt = last?.at ?? 0;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Numbers, stamps, stores and projects `events`. Call inside a transaction: on a throw the
   * caller's rollback must also forget the numbers, so the in-memory cursor moves only at the end.
   */
  append(events: readonly NewEvent[], actor: UserRef, now: number): RoomEvent[] {
    // Monotonic time: a clock step backwards must not make a later event look older.
    const at = Math.max(now, this.#lastAt);
    let seq = this.#lastSeq;
    // Only the id and name are logged: the caller may carry more (session id, admin flag).
    const by: UserRef = { id: actor.id, name: actor.name };
    const stored = events.map((event): RoomEvent => ({
      ...event,
      seq: ++seq,
      id: uuidv7(at),
      at,
      actor: by,
    }));
    for (const event of stored) {
      this.#sql.exec(
        "INSERT INTO events (seq, id, type, at, actor_id, actor_name, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
        event.seq,
        event.id,
        event.type,
        event.at,
        by.id,
        by.name,
        JSON.stringify(event.data),
      );
      project(this.#sql, event);
    }
    return stored;
  }

  /** Moves the cursor once the transaction holding `stored` has committed. */
  committed(stored: readonly RoomEvent[]): void {
    const last = stored.at(-1);
    if (!last) return;
    this.#lastSeq = last.seq;
    this.#lastAt = last.at;
  }

  /** Events with after < seq <= until, oldest first, at most `limit`. */
  range(after: number, limit: number, until = this.#lastSeq): RoomEvent[] {
    return this.#sql
      .exec<EventRow>(
        "SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        after,
        until,
        limit,
      )
      .toArray()
      .map(toEvent);
  }

  *all(): Iterable<RoomEvent> {
    for (const row of this.#sql.exec<EventRow>("SELECT * FROM events ORDER BY seq"))
      yield toEvent(row);
  }
}

/** A stored row as an event, checked against the contract: storage is read, never trusted. */
const toEvent = (row: EventRow): RoomEvent =>
  RoomEvent.parse({
    seq: row.seq,
    id: row.id,
    type: row.type,
    at: row.at,
    actor: { id: row.actor_id, name: row.actor_name },
    data: JSON.parse(row.data),
  });

/** A UUIDv7 (RFC 9562): time-ordered and globally unique, so event ids sort by creation. */
export function uuidv7(now: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff;
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
