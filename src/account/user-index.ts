import { DurableObject } from "cloudflare:workers";
import type { AdminUser, AdminUserList, AdminUserQuery } from "../protocol/index.ts";
import { pageOfKeys, prefixRange } from "./admin-rules.ts";

/** The one index object's name. */
export const USER_INDEX_NAME = "users";

type IndexRow = {
  key: string;
  id: string;
  name: string;
  created_at: number;
  banned_at: number | null;
};

/**
 * The instance's list of registered accounts, for admins to find them by name prefix
 * (docs/observability.md, "Administration"). Accounts are one object per username and cannot
 * be listed: each Account tells this one object when it registers, signs in, is banned or
 * unbanned, and is deleted. A copy for finding accounts, never for deciding: the Account
 * holds the password, the sessions and the ban.
 */
export class UserIndex extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS users (
        key TEXT PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL,
        created_at INTEGER NOT NULL, banned_at INTEGER) WITHOUT ROWID;`);
  }

  /** Adds or updates an account (a sign-in of an account older than the index adds it). */
  async note(user: AdminUser): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO users (key, id, name, created_at, banned_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET id = excluded.id, name = excluded.name,
         created_at = excluded.created_at, banned_at = excluded.banned_at`,
      user.name.toLowerCase(),
      user.id,
      user.name,
      user.createdAt,
      user.bannedAt,
    );
  }

  /**
   * Forgets a deleted account; only the one with this id, so that a late call cannot remove an
   * account registered again under the freed name.
   */
  async forget(name: string, id: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM users WHERE key = ? AND id = ?", name.toLowerCase(), id);
  }

  /** A page of accounts whose name starts with the prefix (case-insensitively), in name order. */
  async search(query: AdminUserQuery): Promise<AdminUserList> {
    const range = prefixRange(query.prefix, query.after);
    const rows = this.ctx.storage.sql
      .exec<IndexRow>(
        `SELECT key, id, name, created_at, banned_at FROM users
         WHERE key ${range.fromInclusive ? ">=" : ">"} ? AND key < ? ORDER BY key LIMIT ?`,
        range.from,
        range.to,
        query.limit + 1,
      )
      .toArray();
    const page = pageOfKeys(rows, query.limit);
    return {
      users: page.rows.map((row) => ({
        id: row.id,
        name: row.name,
        kind: "user" as const,
        createdAt: row.created_at,
        bannedAt: row.banned_at,
      })),
      nextAfter: page.nextAfter,
    };
  }
}
