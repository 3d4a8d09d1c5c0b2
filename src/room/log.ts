import {
  contentHashOf,
  EVENT_VERSION,
  GENESIS_HASH,
  linkHash,
  RoomEvent,
  TEXT_EVENT_TYPES,
  REDACTED_FIELDS,
  upcast,
  type ChainedEvent,
  type NewEvent,
  type UserRef,
} from "../protocol/index.ts";
import { project } from "./project.ts";
import { uuidv7 } from "./uuid.ts";

/** A row of the `events` table. */
export type EventRow = {
  seq: number;
  id: string;
  type: string;
  at: number;
  actor_id: string;
  actor_name: string;
  data: string;
  content_hash: string | null;
  prev_hash: string | null;
  hash: string | null;
  version: number;
  redacted_by: number | null;
  message_id: number | null;
};

/** The message an event is about (a post is about itself), stored to find a message's events. */
function messageIdOf(event: Pick<RoomEvent, "type" | "data" | "seq">): number | null {
  if (event.type === "message.posted") return event.seq;
  return "messageId" in event.data ? event.data.messageId : null;
}

const SCRUB_TEXT = `UPDATE events
  SET data = json_set(json_remove(data, ${REDACTED_FIELDS.map((f) => `'$.${f}'`).join(", ")}), '$.text', ''),
    redacted_by = ?
  WHERE message_id = ? AND type IN (${TEXT_EVENT_TYPES.map((t) => `'${t}'`).join(", ")})
  AND redacted_by IS NULL`;

export type LogMark =
  { readonly seq: number; readonly at: number; readonly hash: string } | undefined;

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
  #lastHash: string;
  /** Where appends in the open transaction have reached; undefined when none is open. */
  #tentative: LogMark;

  constructor(sql: SqlStorage, listener?: LogListener) {
    this.#sql = sql;
    this.#listener = listener;
    const last = sql
      .exec<{ seq: number; at: number; hash: string | null }>(
        "SELECT seq, at, hash FROM events ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    this.#lastSeq = last?.seq ?? 0;
    this.#lastAt = last?.at ?? 0;
    this.#lastHash = last?.hash ?? GENESIS_HASH;
  }

  /** The hash of the last committed event: the chain's head, which the room anchors elsewhere. */
  get head(): string {
    return this.#lastHash;
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
    let prevHash = this.#tentative?.hash ?? this.#lastHash;
    // Only the id and name are logged: the caller may carry more (session id, admin flag).
    const by: UserRef = { id: actor.id, name: actor.name };
    const stored = events.map((event): RoomEvent => {
      const header = { seq: ++seq, id: uuidv7(at), type: event.type, at, actor: by };
      const version = EVENT_VERSION[event.type];
      const contentHash = contentHashOf(event.data);
      const hash = linkHash({ ...header, contentHash, prevHash, version });
      const chained = { ...event, ...header, hash, prevHash } as RoomEvent;
      this.#sql.exec(
        "INSERT INTO events (seq, id, type, at, actor_id, actor_name, data, content_hash, prev_hash, hash, version, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        header.seq,
        header.id,
        header.type,
        at,
        by.id,
        by.name,
        JSON.stringify(event.data),
        contentHash,
        prevHash,
        hash,
        version,
        messageIdOf(chained),
      );
      // The text leaves storage in the transaction that logs its redaction.
      if (chained.type === "message.redacted")
        this.#sql.exec(SCRUB_TEXT, chained.seq, chained.data.messageId);
      project(this.#sql, chained);
      prevHash = hash;
      return chained;
    });
    if (stored.length > 0) this.#tentative = { seq, at, hash: prevHash };
    this.#listener?.appended(stored);
    return stored;
  }

  /** The transaction holding the appends since the last commit has committed. */
  committed(): void {
    if (!this.#tentative) return;
    this.#lastSeq = this.#tentative.seq;
    this.#lastAt = this.#tentative.at;
    this.#lastHash = this.#tentative.hash;
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

  /** Every stored event as the chain sees it, raw (storage is what is being checked). */
  *chain(): Iterable<ChainedEvent> {
    for (const row of this.#sql.exec<EventRow>("SELECT * FROM events ORDER BY seq"))
      yield chainedOf(row);
  }

  /** Stored events with after < seq, at most `limit`, as the chain sees them (for the export). */
  chainPage(after: number, limit: number): ChainedEvent[] {
    return this.#sql
      .exec<EventRow>("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
      .toArray()
      .map(chainedOf);
  }

  /** The stored hash of event `seq`, if there is one. */
  hashAt(seq: number): string | undefined {
    return (
      this.#sql
        .exec<{ hash: string | null }>("SELECT hash FROM events WHERE seq = ?", seq)
        .toArray()[0]?.hash ?? undefined
    );
  }
}

/** A stored row as the chain sees it; content that is not JSON any more cannot match its hash. */
function chainedOf(row: EventRow): ChainedEvent {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    data = { unreadable: row.data };
  }
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    at: row.at,
    actor: { id: row.actor_id, name: row.actor_name },
    data,
    contentHash: row.content_hash ?? "",
    prevHash: row.prev_hash ?? "",
    hash: row.hash ?? "",
    ...(row.version !== 1 ? { version: row.version } : {}),
    ...(row.redacted_by !== null ? { redactedBy: row.redacted_by } : {}),
  };
}

/**
 * Chains the events stored before the chain existed (schema v7), in order, from the last chained
 * one. Idempotent: a log whose events all have hashes is left alone.
 */
export function backfillChain(storage: DurableObjectStorage): number {
  const sql = storage.sql;
  const unchained = sql
    .exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE hash IS NULL")
    .one().n;
  if (unchained === 0) return 0;
  storage.transactionSync(() => {
    let prevHash = GENESIS_HASH;
    for (const row of sql.exec<EventRow>("SELECT * FROM events ORDER BY seq").toArray()) {
      if (row.hash !== null) {
        prevHash = row.hash;
        continue;
      }
      const e = chainedOf(row);
      const contentHash = contentHashOf(e.data);
      const hash = linkHash({ ...e, contentHash, prevHash });
      sql.exec(
        "UPDATE events SET content_hash = ?, prev_hash = ?, hash = ? WHERE seq = ?",
        contentHash,
        prevHash,
        hash,
        row.seq,
      );
      prevHash = hash;
    }
  });
  return unchained;
}

/** The stored event `seq`, if there is one. */
export function readEvent(sql: SqlStorage, seq: number): RoomEvent | undefined {
  const row = sql.exec<EventRow>("SELECT * FROM events WHERE seq = ?", seq).toArray()[0];
  return row && toEvent(row);
}

/**
 * A stored row as an event of the current version (upcast.ts), checked against the contract:
 * storage is read, never trusted.
 */
export const toEvent = (row: EventRow): RoomEvent =>
  RoomEvent.parse({
    seq: row.seq,
    id: row.id,
    type: row.type,
    at: row.at,
    actor: { id: row.actor_id, name: row.actor_name },
    data: upcast(row.type, row.version, JSON.parse(row.data)),
    ...(row.hash && row.prev_hash ? { hash: row.hash, prevHash: row.prev_hash } : {}),
    ...(row.redacted_by !== null ? { redacted: true } : {}),
  });
