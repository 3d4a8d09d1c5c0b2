import type { RoomEvent } from "../protocol/index.ts";
import type { EventLog } from "./log.ts";

/** Events per Postgres transaction. */
export const FLUSH_BATCH = 500;
/** How long after a commit the flush runs, so that a burst goes in one batch. */
export const FLUSH_DELAY_MS = 200;
const MAX_RETRY_MS = 10_000;

/**
 * Where the room's events go on to (Postgres, wired in src/index.ts): writes a contiguous batch
 * exactly once in effect and answers how far the sink's copy of the room now reaches.
 */
export type EventSink = { write(room: string, batch: readonly RoomEvent[]): Promise<number> };

export type OutboxState = { flushedSeq: number; attempts: number; lastError: string | null };

/**
 * The room's side of the flush to Postgres: a cursor into its own log. The log is the backlog,
 * so nothing waits in memory and nothing is lost while Postgres is away; retries back off up
 * to 10 s. The room's alarm runs `flush()`; the next due time, if any, is returned.
 */
export class Outbox {
  readonly #sql: SqlStorage;
  readonly #log: EventLog;
  readonly #sink: EventSink | undefined;

  constructor(sql: SqlStorage, log: EventLog, sink: EventSink | undefined) {
    this.#sql = sql;
    this.#log = log;
    this.#sink = sink;
  }

  /** Whether there is a sink to flush to (without Postgres the chat runs on DO storage alone). */
  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  state(): OutboxState {
    const row = this.#sql
      .exec<{ flushed_seq: number; attempts: number; last_error: string | null }>(
        "SELECT flushed_seq, attempts, last_error FROM outbox",
      )
      .one();
    return { flushedSeq: row.flushed_seq, attempts: row.attempts, lastError: row.last_error };
  }

  /** Flushes one batch; returns when to run again (more to send, or a retry), or undefined. */
  async flush(room: string, now: number): Promise<number | undefined> {
    if (!this.#sink) return undefined;
    const { flushedSeq, attempts } = this.state();
    const batch = this.#log.range(flushedSeq, FLUSH_BATCH);
    if (batch.length === 0) return undefined;
    try {
      const cursor = await this.#sink.write(room, batch);
      // Postgres's cursor is the truth about what it holds, even when it is behind ours.
      this.#sql.exec("UPDATE outbox SET flushed_seq = ?, attempts = 0, last_error = NULL", cursor);
      return cursor < this.#log.lastSeq ? now : undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#sql.exec(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?",
        message.slice(0, 500),
      );
      console.warn(
        `edgechat: flush of ${room} failed (attempt ${attempts + 1}), will retry:`,
        message,
      );
      return now + Math.min(MAX_RETRY_MS, 250 * 2 ** attempts);
    }
  }
}
