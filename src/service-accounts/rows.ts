import {
  ScopeShape,
  type ServiceAccount,
  type ServiceKeyInfo,
  type ServiceScope,
} from "../protocol/index.ts";
import { keyStatus } from "../identity/service-key.ts";

/**
 * The ServiceAccounts object's tables and how their rows read as the wire's types: pure, so
 * that the object itself only runs SQL.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    created_by_id TEXT NOT NULL, created_by_name TEXT NOT NULL, created_at INTEGER NOT NULL,
    disabled_at INTEGER);
  CREATE TABLE IF NOT EXISTS scopes (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    rooms TEXT NOT NULL, actions TEXT NOT NULL, role TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
    secret_sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    revoked_at INTEGER, last_used_at INTEGER, sockets_closed_at INTEGER);
  CREATE INDEX IF NOT EXISTS keys_by_account ON keys (account_id, created_at);
  CREATE TABLE IF NOT EXISTS rooms_used (
    account_id TEXT NOT NULL, room TEXT NOT NULL, PRIMARY KEY (account_id, room));`;

/**
 * Changes to SCHEMA for objects created before them, in order; `schema_version` says how many
 * ran. v1 (bots, docs/integrations.md): each account's owner, at first whoever created it.
 */
const MIGRATIONS = [
  `ALTER TABLE accounts ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
   ALTER TABLE accounts ADD COLUMN owner_name TEXT NOT NULL DEFAULT '';
   UPDATE accounts SET owner_id = created_by_id, owner_name = created_by_name;
   CREATE INDEX accounts_by_owner ON accounts (owner_id, name_key);`,
];

/** Creates the tables, or brings those of an older object up to date, in one transaction. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec(SCHEMA);
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const from =
    sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  if (from >= MIGRATIONS.length) return;
  storage.transactionSync(() => {
    for (const step of MIGRATIONS.slice(from)) sql.exec(step);
    sql.exec("DELETE FROM schema_version");
    sql.exec("INSERT INTO schema_version (version) VALUES (?)", MIGRATIONS.length);
  });
}

export type AccountRow = {
  id: string;
  name: string;
  owner_id: string;
  owner_name: string;
  created_by_id: string;
  created_by_name: string;
  created_at: number;
  disabled_at: number | null;
  rooms: string;
  actions: string;
  role: string;
};

export type KeyRow = {
  key_id: string;
  account_id: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
};

/** The columns of `scopes` for a scope. */
export const scopeColumns = (scope: ServiceScope) =>
  [JSON.stringify(scope.rooms), JSON.stringify(scope.actions), scope.role] as const;

/** The scope a row holds; a row that is not one is a bug to surface, never a wider scope. */
export const scopeOfRow = (row: Pick<AccountRow, "rooms" | "actions" | "role">): ServiceScope =>
  ScopeShape.parse({
    rooms: JSON.parse(row.rooms),
    actions: JSON.parse(row.actions),
    role: row.role,
  });

export function keyInfo(row: KeyRow, now: number): ServiceKeyInfo {
  const times = { expiresAt: row.expires_at, revokedAt: row.revoked_at };
  return {
    id: row.key_id,
    status: keyStatus(times, now),
    createdAt: row.created_at,
    ...times,
    lastUsedAt: row.last_used_at,
  };
}

export function accountOf(row: AccountRow, keys: readonly KeyRow[], now: number): ServiceAccount {
  return {
    id: row.id,
    name: row.name,
    owner: { id: row.owner_id, name: row.owner_name },
    createdBy: { id: row.created_by_id, name: row.created_by_name },
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    scope: scopeOfRow(row),
    keys: keys.map((key) => keyInfo(key, now)),
  };
}
