import { sameDigest } from "../identity/service-key.ts";
import type { IncomingHook, UserRef } from "../protocol/index.ts";

type HookRow = {
  id: string;
  name: string;
  bot_id: string;
  digest: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
};

/** A hook's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;
/** Compared against when no hook has the id, so that a miss costs what a wrong secret does. */
const DECOY_DIGEST = "0".repeat(64);

/**
 * A room's incoming webhooks, in its hub: only each secret's SHA-256 is kept (the worker hashes
 * it), compared in constant time, as the service keys are (docs/service-keys.md).
 */
export class IncomingHooks {
  readonly #sql: SqlStorage;
  readonly #room: string;
  constructor(sql: SqlStorage, room: string) {
    this.#sql = sql;
    this.#room = room;
  }

  list(): IncomingHook[] {
    return this.#rows("SELECT * FROM incoming_hooks ORDER BY created_at, id").map((row) =>
      this.#wire(row),
    );
  }

  /** Hooks that still work. */
  usable(): number {
    return this.#sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM incoming_hooks WHERE revoked_at IS NULL")
      .one().n;
  }

  create(id: string, name: string, botId: string, digest: string, by: UserRef, now: number) {
    this.#sql.exec(
      `INSERT INTO incoming_hooks (id, name, bot_id, digest, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      name,
      botId,
      digest,
      JSON.stringify(by),
      now,
    );
    return this.#wire(this.#rows("SELECT * FROM incoming_hooks WHERE id = ?", id)[0]!);
  }

  revoke(id: string, now: number): IncomingHook | undefined {
    this.#sql.exec(
      "UPDATE incoming_hooks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
      now,
      id,
    );
    const row = this.#rows("SELECT * FROM incoming_hooks WHERE id = ?", id)[0];
    return row && this.#wire(row);
  }

  /** The hook whose id and secret's digest these are, if it works; its last use noted. */
  verify(id: string, digest: string, now: number): IncomingHook | undefined {
    const row = this.#rows("SELECT * FROM incoming_hooks WHERE id = ?", id)[0];
    const matches = sameDigest(row?.digest ?? DECOY_DIGEST, digest) && row !== undefined;
    if (!matches || row.revoked_at !== null) return undefined;
    if (row.last_used_at === null || now - row.last_used_at >= TOUCH_EVERY_MS) {
      this.#sql.exec("UPDATE incoming_hooks SET last_used_at = ? WHERE id = ?", now, id);
      row.last_used_at = now;
    }
    return this.#wire(row);
  }

  #rows(query: string, ...bindings: unknown[]): HookRow[] {
    return this.#sql.exec<HookRow>(query, ...bindings).toArray();
  }

  #wire(row: HookRow): IncomingHook {
    return {
      id: row.id,
      room: this.#room,
      name: row.name,
      botId: row.bot_id,
      createdBy: JSON.parse(row.created_by) as UserRef,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
    };
  }
}
