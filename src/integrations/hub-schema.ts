/**
 * The IntegrationHub's tables, brought to the current version when the object starts. Each step
 * runs once, in order; add a step to change the schema, never edit one that shipped.
 */
const STEPS: readonly string[] = [
  `CREATE TABLE webhooks (
     id TEXT PRIMARY KEY, url TEXT NOT NULL, description TEXT NOT NULL,
     event_types TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
     disabled_at INTEGER, disabled_reason TEXT,
     failures_in_a_row INTEGER NOT NULL DEFAULT 0, failing_since INTEGER,
     last_success_at INTEGER, last_failure_at INTEGER) WITHOUT ROWID;
   CREATE TABLE webhook_secrets (
     webhook_id TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL,
     expires_at INTEGER, PRIMARY KEY (webhook_id, secret)) WITHOUT ROWID;
   CREATE TABLE deliveries (
     id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, message_id TEXT NOT NULL,
     event_type TEXT NOT NULL, room TEXT NOT NULL, seq INTEGER NOT NULL,
     message_seq INTEGER, body TEXT NOT NULL, status TEXT NOT NULL,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, next_attempt_at INTEGER,
     UNIQUE (webhook_id, message_id));
   CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at, seq, id);
   CREATE INDEX deliveries_by_message ON deliveries (room, message_seq);
   CREATE INDEX deliveries_by_seq ON deliveries (room, seq);
   CREATE TABLE delivery_attempts (
     delivery_id TEXT NOT NULL, at INTEGER NOT NULL, status INTEGER, error TEXT,
     duration_ms INTEGER NOT NULL, response TEXT NOT NULL);
   CREATE INDEX attempts_by_delivery ON delivery_attempts (delivery_id, at);`,
  `CREATE TABLE incoming_hooks (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, bot_id TEXT NOT NULL, digest TEXT NOT NULL,
     created_by TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER,
     last_used_at INTEGER) WITHOUT ROWID;`,
  // Slash commands (slash-store.ts): the room's custom commands, their response_url tokens
  // (SHA-256 of the token, never the token), and each caller's clientIds for 24 h.
  `CREATE TABLE slash_commands (
     name TEXT PRIMARY KEY, url TEXT NOT NULL, description TEXT NOT NULL,
     usage_hint TEXT NOT NULL, bot_id TEXT NOT NULL, bot_name TEXT,
     signing_secret TEXT NOT NULL, verification_token TEXT NOT NULL,
     created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE slash_responses (
     token_hash TEXT PRIMARY KEY, command TEXT NOT NULL, user_id TEXT NOT NULL,
     user_name TEXT NOT NULL, expires_at INTEGER NOT NULL, uses_left INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE slash_invocations (
     user_id TEXT NOT NULL, client_id TEXT NOT NULL, answer TEXT, at INTEGER NOT NULL,
     PRIMARY KEY (user_id, client_id)) WITHOUT ROWID;`,
  // The Slack bridge (slack-tables.ts).
  `CREATE TABLE slack_links (
     channel TEXT PRIMARY KEY, room TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL, linked_seq INTEGER NOT NULL DEFAULT 0,
     last_message_at INTEGER, last_error TEXT) WITHOUT ROWID;
   CREATE TABLE slack_messages (
     seq INTEGER PRIMARY KEY, ts TEXT UNIQUE, thread_ts TEXT, origin TEXT NOT NULL,
     author_id TEXT, author_name TEXT, state TEXT NOT NULL, claimed_until INTEGER);
   CREATE TABLE slack_authors (
     key TEXT PRIMARY KEY, actor_id TEXT NOT NULL UNIQUE, slack_user TEXT, name TEXT,
     fetched_at INTEGER) WITHOUT ROWID;
   CREATE TABLE slack_events (event_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX slack_events_by_age ON slack_events (at);
   CREATE TABLE slack_identity (
     token_hint TEXT PRIMARY KEY, team_id TEXT NOT NULL, user_id TEXT NOT NULL, bot_id TEXT,
     fetched_at INTEGER NOT NULL) WITHOUT ROWID;`,
  // The instance's rules (instance-rules.ts; docs/automation.md, "Instance rules"): `position` is
  // the version that created the rule, and one version number, bumped by every change, is what
  // the rooms pull by. Every hub has the tables; only the instance's fills them.
  `CREATE TABLE instance_rules (
     id TEXT PRIMARY KEY, json TEXT NOT NULL, saved_by TEXT NOT NULL,
     saved_by_name TEXT NOT NULL, saved_at INTEGER NOT NULL, position INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE instance_rules_version (version INTEGER NOT NULL);
   INSERT INTO instance_rules_version (version) VALUES (0);`,
];

export function migrateHub(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const from = row?.version ?? 0;
  for (const step of STEPS.slice(from)) sql.exec(step);
  if (!row) sql.exec("INSERT INTO schema_version (version) VALUES (?)", STEPS.length);
  else if (from < STEPS.length) sql.exec("UPDATE schema_version SET version = ?", STEPS.length);
}
