/** Idempotency keys are honoured for 24 hours, then expired by the room's alarm. */
export const COMMAND_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The `commands` table: which event each (user, clientId) made, so that a repeated command
 * is acked with its original seq instead of being applied again.
 */
export class IdempotencyKeys {
  readonly #sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** The seq a live key made, if this command was already applied. */
  find(userId: string, clientId: string, now: number): number | undefined {
    return this.#sql
      .exec<{ seq: number }>(
        "SELECT seq FROM commands WHERE user_id = ? AND client_id = ? AND at > ?",
        userId,
        clientId,
        now - COMMAND_TTL_MS,
      )
      .toArray()[0]?.seq;
  }

  /** Call inside the command's transaction, so the key is stored exactly when its events are. */
  remember(userId: string, clientId: string, seq: number, now: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO commands (user_id, client_id, seq, at) VALUES (?, ?, ?, ?)",
      userId,
      clientId,
      seq,
      now,
    );
  }

  /** Drops the keys past their 24 hours; returns when the oldest remaining one expires. */
  expire(now: number): number | undefined {
    this.#sql.exec("DELETE FROM commands WHERE at <= ?", now - COMMAND_TTL_MS);
    const oldest = this.#sql
      .exec<{ at: number | null }>("SELECT min(at) AS at FROM commands")
      .one().at;
    return oldest === null ? undefined : oldest + COMMAND_TTL_MS;
  }
}
