import type { AuditEntry } from "../protocol/index.ts";
import type { AuditStore } from "./store.ts";

/** Entries per Postgres transaction. */
export const AUDIT_FLUSH_BATCH = 500;
/** How long after a record the flush runs, so that a burst goes in one batch. */
export const AUDIT_FLUSH_DELAY_MS = 200;
const MAX_RETRY_MS = 10_000;

/**
 * Where the log's entries go on to (Postgres, wired in src/index.ts): writes a contiguous batch
 * exactly once in effect and answers how far the mirror now reaches.
 */
export type AuditSink = { write(batch: readonly AuditEntry[]): Promise<number> };

export type AuditOutboxState = { flushedSeq: number; attempts: number; lastError: string | null };

/** The wait before the next try after `attempts` failures: 250 ms, doubling, at most 10 s. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(MAX_RETRY_MS, 250 * 2 ** attempts);

/**
 * The log's side of its Postgres mirror, as a room's outbox (src/room/outbox.ts): a cursor into
 * the log, which is itself the backlog. The object's alarm runs `flush()`.
 */
export class AuditOutbox {
  readonly #sql: SqlStorage;
  readonly #store: AuditStore;
  readonly #sink: AuditSink | undefined;

  constructor(sql: SqlStorage, store: AuditStore, sink: AuditSink | undefined) {
    this.#sql = sql;
    this.#store = store;
    this.#sink = sink;
    sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      flushed_seq INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT);
      INSERT OR IGNORE INTO outbox VALUES (1, 0, 0, NULL);`);
  }

  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  state(): AuditOutboxState {
    const row = this.#sql
      .exec<{ flushed_seq: number; attempts: number; last_error: string | null }>(
        "SELECT flushed_seq, attempts, last_error FROM outbox",
      )
      .one();
    return { flushedSeq: row.flushed_seq, attempts: row.attempts, lastError: row.last_error };
  }

  /** Flushes one batch; returns when to run again (more to send, or a retry), or undefined. */
  async flush(now: number): Promise<number | undefined> {
    if (!this.#sink) return undefined;
    const { flushedSeq, attempts } = this.state();
    const batch = this.#store.range(flushedSeq, AUDIT_FLUSH_BATCH);
    if (batch.length === 0) return undefined;
    try {
      const cursor = await this.#sink.write(batch);
      // Postgres's cursor is the truth about what it holds, even when it is behind ours.
      this.#sql.exec("UPDATE outbox SET flushed_seq = ?, attempts = 0, last_error = NULL", cursor);
      return cursor < this.#store.head.seq ? now : undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#sql.exec(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?",
        message.slice(0, 500),
      );
      console.warn(`edgechat: audit flush failed (attempt ${attempts + 1}), will retry:`, message);
      return now + retryDelayMs(attempts);
    }
  }
}
