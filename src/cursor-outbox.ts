import { errorFields, log } from "./telemetry/log.ts";

/**
 * The flush of an append-only log to Postgres (or a queue) by a cursor kept beside it, in the object's own
 * SQLite (`outbox` table): the log is the backlog, so nothing waits in memory and nothing is lost
 * while Postgres is away. One batch at a time; the sink answers how far its copy now reaches,
 * which is the truth even when it is behind the cursor; failures back off 250 ms, doubling, up
 * to 10 s. The object's alarm runs `flush()`. Used by the rooms and by the instance audit log,
 * and by the rooms' feed to the integrations' queue (src/room/integration-feed.ts).
 */

/** Items per Postgres transaction. */
export const FLUSH_BATCH = 500;
/** How long after a write the flush runs, so that a burst goes in one batch. */
export const FLUSH_DELAY_MS = 200;
const MAX_RETRY_MS = 10_000;

export type OutboxState = { flushedSeq: number; attempts: number; lastError: string | null };

/** The wait before the next try after `attempts` failures: 250 ms, doubling, at most 10 s. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(MAX_RETRY_MS, 250 * 2 ** attempts);

/** The log being flushed, and where to. */
export type FlushedLog<T> = {
  /** What the log is, for the warning when a flush fails ("room lobby"). */
  readonly name: () => string;
  /** At most `limit` items after seq `after`, in order. */
  readonly read: (after: number, limit: number) => T[];
  readonly lastSeq: () => number;
  /** Writes a contiguous batch exactly once in effect; answers the copy's last seq. None: no Postgres. */
  readonly write: ((batch: readonly T[]) => Promise<number>) | undefined;
};

export class CursorOutbox<T> {
  readonly #sql: SqlStorage;
  readonly #log: FlushedLog<T>;
  readonly #table: string;

  /**
   * `table` (one row: flushed_seq, attempts, last_error) must exist: `outbox` is a room's
   * migration v3 and the audit log's; a room's feed to its integrations keeps its own.
   */
  constructor(
    sql: SqlStorage,
    log: FlushedLog<T>,
    table: "outbox" | "integration_outbox" = "outbox",
  ) {
    this.#sql = sql;
    this.#log = log;
    this.#table = table;
  }

  /** Whether there is a sink to flush to (without Postgres the chat runs on DO storage alone). */
  get enabled(): boolean {
    return this.#log.write !== undefined;
  }

  state(): OutboxState {
    const row = this.#sql
      .exec<{ flushed_seq: number; attempts: number; last_error: string | null }>(
        `SELECT flushed_seq, attempts, last_error FROM ${this.#table}`,
      )
      .one();
    return { flushedSeq: row.flushed_seq, attempts: row.attempts, lastError: row.last_error };
  }

  /** Flushes one batch; returns when to run again (more to send, or a retry), or undefined. */
  async flush(now: number): Promise<number | undefined> {
    const write = this.#log.write;
    if (!write) return undefined;
    const { flushedSeq, attempts } = this.state();
    const batch = this.#log.read(flushedSeq, FLUSH_BATCH);
    if (batch.length === 0) return undefined;
    try {
      const cursor = await write(batch);
      this.#sql.exec(
        `UPDATE ${this.#table} SET flushed_seq = ?, attempts = 0, last_error = NULL`,
        cursor,
      );
      return cursor < this.#log.lastSeq() ? now : undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#sql.exec(
        `UPDATE ${this.#table} SET attempts = attempts + 1, last_error = ?`,
        message.slice(0, 500),
      );
      const what = this.#log.name();
      log.warn("flush failed, will retry", {
        log: what,
        attempt: attempts + 1,
        error: errorFields(error),
      });
      return now + retryDelayMs(attempts);
    }
  }
}
