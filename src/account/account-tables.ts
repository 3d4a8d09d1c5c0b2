import type { AdminUser } from "../protocol/index.ts";

/**
 * An Account object's tables: the schema with its migrations, the rows as the object reads them,
 * and the reads it makes more than once.
 */

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS account (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    user_id TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, refresh_hash TEXT NOT NULL, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, revoked_at INTEGER);
  CREATE TABLE IF NOT EXISTS spent_refresh (hash TEXT PRIMARY KEY, sid TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS failures (at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS rooms (name TEXT PRIMARY KEY);`;

/**
 * Changes to SCHEMA for accounts created before them, in order; `account_version` says how many
 * ran. v1: the instance ban, and when each session was last opened or refreshed.
 */
const MIGRATIONS = [
  `ALTER TABLE account ADD COLUMN banned_at INTEGER;
   ALTER TABLE account ADD COLUMN ban_reason TEXT;
   ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
   UPDATE sessions SET last_used_at = created_at;`,
];

export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec(SCHEMA);
  sql.exec("CREATE TABLE IF NOT EXISTS account_version (version INTEGER NOT NULL)");
  const from =
    sql.exec<{ version: number }>("SELECT version FROM account_version").toArray()[0]?.version ?? 0;
  if (from >= MIGRATIONS.length) return;
  storage.transactionSync(() => {
    for (const step of MIGRATIONS.slice(from)) sql.exec(step);
    sql.exec("DELETE FROM account_version");
    sql.exec("INSERT INTO account_version (version) VALUES (?)", MIGRATIONS.length);
  });
}

export type AccountRow = {
  user_id: string;
  username: string;
  password: string;
  created_at: number;
  banned_at: number | null;
  ban_reason: string | null;
};
export type SessionRow = {
  sid: string;
  refresh_hash: string;
  expires_at: number;
  revoked_at: number | null;
};

/** The account, or undefined before registration and after deletion. */
export function readAccount(sql: SqlStorage): AccountRow | undefined {
  return sql
    .exec<AccountRow>(
      "SELECT user_id, username, password, created_at, banned_at, ban_reason FROM account",
    )
    .toArray()[0];
}

export function readSession(sql: SqlStorage, sid: string): SessionRow | undefined {
  return sql
    .exec<SessionRow>(
      "SELECT sid, refresh_hash, expires_at, revoked_at FROM sessions WHERE sid = ?",
      sid,
    )
    .toArray()[0];
}

/** The sessions neither revoked nor expired at `now`. */
export function openSessionIds(sql: SqlStorage, now: number): string[] {
  return sql
    .exec<{ sid: string }>(
      "SELECT sid FROM sessions WHERE revoked_at IS NULL AND expires_at > ?",
      now,
    )
    .toArray()
    .map((row) => row.sid);
}

/** How the index and the admin API list an account. */
export const summary = (account: AccountRow): AdminUser => ({
  id: account.user_id,
  name: account.username,
  kind: "user",
  createdAt: account.created_at,
  bannedAt: account.banned_at,
});
