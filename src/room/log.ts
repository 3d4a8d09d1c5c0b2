import { RoomEvent, type NewEvent, type UserRef } from "../protocol/index.ts";
import { project } from "./project.ts";
import { uuidv7 } from "./uuid.ts";

type EventRow = {
  seq: number;
  id: string;
  type: string;
  at: number;
  actor_id: string;
  actor_name: string;
  data: string;
};

export type LogMark = { readonly seq: number; readonly at: number } | undefined;

/** Told of appends and rollbacks: a cache of the projections (read-model.ts) stays right. */
export type LogListener = {
  appended(events: readonly RoomEvent[]): void;
  rolledBack(): void;
};

/**
 * The room's append-only event log. `seq` is the SQLite rowid: contiguous because rows are
 * only ever appended, one at a time, inside the command's transaction, and never deleted.
 */
export class EventLog {
  readonly #sql: SqlStorage;
  readonly #listener: LogListener | undefined;
  #lastSeq: number;
  #lastAt: number;
  /** Where appends in the open transaction have reached; undefined when none is open. */
  #tentative: LogMark;

  constructor(sql: SqlStorage, listener?: LogListener) {
    this.#sql = sql;
    this.#listener = listener;
    const last = sql
      .exec<{ seq: number; at: number }>("SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    this.#lastSeq = last?.seq ?? 0;
    this.#lastAt = last?.at ?? 0;
  }

  /** The last committed seq: what readers may see. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The last seq written, committed or not: what the next append follows. */
  get headSeq(): number {
    return this.#tentative?.seq ?? this.#lastSeq;
  }

  /**
   * Numbers, stamps, stores and projects `events`. Call inside a transaction, then `committed()`
   * or `rolledBack()`: several appends may share one transaction (a group commit), so the
   * numbers they take are tentative until it commits.
   */
  append(events: readonly NewEvent[], actor: UserRef, now: number): RoomEvent[] {
    // Monotonic time: a clock step backwards must not make a later event look older.
    const at = Math.max(now, this.#tentative?.at ?? this.#lastAt);
    let seq = this.headSeq;
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
    if (stored.length > 0) this.#tentative = { seq, at };
    this.#listener?.appended(stored);
    return stored;
  }

  /** The transaction holding the appends since the last commit has committed. */
  committed(): void {
    if (!this.#tentative) return;
    this.#lastSeq = this.#tentative.seq;
    this.#lastAt = this.#tentative.at;
    this.#tentative = undefined;
  }

  /** Where the open transaction's appends stand, to go back to if what follows is rolled back. */
  mark(): LogMark {
    return this.#tentative;
  }

  /** What was appended after `mark` was rolled back (the whole transaction, by default). */
  rollBackTo(mark: LogMark = undefined): void {
    this.#tentative = mark;
    this.#listener?.rolledBack();
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
