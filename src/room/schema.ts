/**
 * The Room object's own SQLite tables, as numbered migrations applied once, in order, at start.
 * `events` is the source of truth; every other table is a projection of it (see project.ts)
 * except `commands` (idempotency keys), `read_markers`, `schedule`, the reminders and the uploads,
 * which are not events.
 */
/**
 * The rule a rule event is about, as SQL over `events.data`, and the events that are rule events:
 * the expression and the condition of the index `events_rule`, which a query uses only when it
 * says both word for word.
 */
export const RULE_ID_SQL =
  "coalesce(json_extract(data, '$.rule.id'), json_extract(data, '$.ruleId'))";
export const RULE_EVENTS_SQL = "type IN ('rule.saved', 'rule.deleted')";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     type TEXT NOT NULL,
     at INTEGER NOT NULL,
     actor_id TEXT NOT NULL,
     actor_name TEXT NOT NULL,
     data TEXT NOT NULL
   );
   CREATE TABLE room (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     name TEXT NOT NULL,
     topic TEXT NOT NULL,
     visibility TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     created_by TEXT NOT NULL
   );
   CREATE TABLE members (
     user_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     joined_at INTEGER NOT NULL
   );
   CREATE TABLE messages (
     id INTEGER PRIMARY KEY,
     author_id TEXT NOT NULL,
     author_name TEXT NOT NULL,
     text TEXT NOT NULL,
     at INTEGER NOT NULL,
     edited_at INTEGER,
     reply_to INTEGER,
     deleted INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE reactions (
     message_id INTEGER NOT NULL,
     emoji TEXT NOT NULL,
     user_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (message_id, emoji, user_id)
   );
   CREATE TABLE commands (
     user_id TEXT NOT NULL,
     client_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (user_id, client_id)
   );
   CREATE INDEX commands_at ON commands (at);
   CREATE TABLE read_markers (user_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE schedule (task TEXT PRIMARY KEY, due INTEGER NOT NULL);`,
  // v2: roles, bans, mutes, slow mode.
  `ALTER TABLE room ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
   UPDATE room SET owner_id = created_by;
   ALTER TABLE room ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
   UPDATE members SET role = 'owner' WHERE user_id = (SELECT created_by FROM room);
   CREATE TABLE bans (user_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE TABLE mutes (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
   CREATE INDEX messages_author ON messages (author_id, at);`,
  // v3: how far the log has been flushed to Postgres (the log itself is the backlog).
  `CREATE TABLE outbox (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     flushed_seq INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT);
   INSERT INTO outbox (singleton, flushed_seq, attempts) VALUES (1, 0, 0);`,
  // v4: fan-out shards, and who is online on each (memory would forget it on hibernation).
  `ALTER TABLE room ADD COLUMN shards INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE shard_presence (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, shard INTEGER NOT NULL);`,
  // v5: the name a banned user had in the room, for the list of bans (the last one they acted
  // under, for bans made before this column).
  `ALTER TABLE bans ADD COLUMN name TEXT;
   UPDATE bans SET name = (SELECT actor_name FROM events WHERE actor_id = bans.user_id ORDER BY seq DESC LIMIT 1);`,
  // v6: when invitations were made, for the room's invitation limit (docs/limits.md).
  `CREATE TABLE invites (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL);
   CREATE INDEX invites_at ON invites (at);
   INSERT INTO invites (seq, at) SELECT seq, at FROM events WHERE type = 'member.invited';`,
  // v7: the hash chain (docs/audit.md); events stored before it are chained by backfillChain.
  `ALTER TABLE events ADD COLUMN content_hash TEXT;
   ALTER TABLE events ADD COLUMN prev_hash TEXT;
   ALTER TABLE events ADD COLUMN hash TEXT;`,
  // v8 (docs/audit.md): the version each event's data was written in (upcast.ts); the message an
  // event is about, for redaction and for a message's history; which redaction emptied an
  // event's text; redacted messages; each user's actions for undo and redo. A deleted message
  // now keeps its reactions (hidden while deleted, back if it is restored), so the projections of
  // a room older than v8 are rebuilt once from its log (REBUILT_AT).
  `ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE events ADD COLUMN message_id INTEGER;
   UPDATE events SET message_id = CASE WHEN type = 'message.posted' THEN seq
     ELSE json_extract(data, '$.messageId') END
     WHERE type LIKE 'message.%' OR type LIKE 'reaction.%';
   CREATE INDEX events_message ON events (message_id, seq) WHERE message_id IS NOT NULL;
   ALTER TABLE events ADD COLUMN redacted_by INTEGER;
   ALTER TABLE messages ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE actions (user_id TEXT NOT NULL, seq INTEGER NOT NULL, undone_at INTEGER,
     PRIMARY KEY (user_id, seq)) WITHOUT ROWID;
   CREATE INDEX actions_undone ON actions (user_id, undone_at) WHERE undone_at IS NOT NULL;`,
  // v9 (docs/audit.md, "Time travel"): the roster (room row, members, bans, mutes) every
  // SNAPSHOT_EVERY events, never message text; a room older than v9 gets them by the rebuild.
  `CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, state TEXT NOT NULL);`,
  // v10 (docs/integrations.md): the feed of committed events to the integrations' queue, a cursor
  // like the flush's that starts at the log's end (endpoints get the events logged after them),
  // and the event types the room's own endpoints want, as its hub last said.
  `CREATE TABLE integration_outbox (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     flushed_seq INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT);
   INSERT INTO integration_outbox (singleton, flushed_seq, attempts)
     SELECT 1, coalesce(max(seq), 0), 0 FROM events;
   CREATE TABLE integration_types (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1), types TEXT NOT NULL);
   INSERT INTO integration_types (singleton, types) VALUES (1, '[]');`,
  // v11 (docs/automation.md, "Rules in the log"): the room's rules and its plugins' enablement,
  // projections of their events; `position` is the seq of the rule's first save, so a rule keeps
  // its place when replaced or restored. The index finds a rule's events (the undo of a save
  // needs the version before it); rooms hold no rule event before v11, so no rebuild is due.
  `CREATE TABLE rules (
     id TEXT PRIMARY KEY,
     json TEXT NOT NULL,
     saved_by TEXT NOT NULL,
     saved_by_name TEXT NOT NULL,
     saved_at INTEGER NOT NULL,
     position INTEGER NOT NULL);
   CREATE TABLE room_plugins (
     plugin TEXT PRIMARY KEY,
     enabled INTEGER NOT NULL,
     at INTEGER NOT NULL);
   CREATE INDEX events_rule ON events (${RULE_ID_SQL}, seq) WHERE ${RULE_EVENTS_SQL};`,
  // v12 (docs/automation.md, "Schedules and reminders"; numbered after v11, another part's): the
  // room's reminders, private to their authors (so not events), each at its next time; and the
  // `me` reminders that fell due while their author had no socket here, sent at their next one.
  `CREATE TABLE reminders (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     actor TEXT NOT NULL,
     target TEXT NOT NULL,
     text TEXT NOT NULL,
     at INTEGER NOT NULL,
     cron TEXT,
     time_zone TEXT,
     client_id TEXT,
     created_at INTEGER NOT NULL);
   CREATE INDEX reminders_at ON reminders (at);
   CREATE INDEX reminders_user ON reminders (user_id);
   CREATE UNIQUE INDEX reminders_client ON reminders (user_id, client_id) WHERE client_id IS NOT NULL;
   CREATE TABLE reminders_pending (
     reminder_id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     text TEXT NOT NULL,
     at INTEGER NOT NULL,
     missed INTEGER NOT NULL);
   CREATE INDEX reminders_pending_user ON reminders_pending (user_id, at);`,
  // v13 (docs/automation.md, "Schedules and reminders"; docs/plugins.md): each timed rule's and
  // each plugin job's next time, kept apart from the rules and plugins (projections of the log)
  // because firing moves them, not an event.
  `CREATE TABLE rule_clock (
     rule_id TEXT PRIMARY KEY,
     trigger TEXT NOT NULL,
     at INTEGER NOT NULL);
   CREATE INDEX rule_clock_at ON rule_clock (at);
   CREATE TABLE plugin_jobs (
     plugin TEXT NOT NULL,
     job TEXT NOT NULL,
     spec TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (plugin, job));
   CREATE INDEX plugin_jobs_at ON plugin_jobs (at);`,
  // v14 (docs/automation.md, "Rules at work"): committed events whose rules' firings are not
  // carried out yet, so that a crash between a commit and its firings replays them (their keys
  // make the replay a no-op where they had run).
  `CREATE TABLE automation_pending (
     first_seq INTEGER PRIMARY KEY,
     last_seq INTEGER NOT NULL,
     at INTEGER NOT NULL);`,
  // v15 (docs/attachments.md): a message's files as its post logged them, with the transcripts
  // of its voice attachments (JSON: MessageAttachment[]); NULL for a message without files.
  `ALTER TABLE messages ADD COLUMN attachments TEXT;`,
  // v16 (docs/attachments.md, "Transcription"): voice attachments waiting for their transcript,
  // written in the turn of their post's commit; \`due\` is the next try, \`since\` the post's time.
  `CREATE TABLE transcriptions_pending (
     attachment_id TEXT PRIMARY KEY,
     message_id INTEGER NOT NULL,
     type TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     due INTEGER NOT NULL,
     since INTEGER NOT NULL);
   CREATE INDEX transcriptions_pending_due ON transcriptions_pending (due);`,
  // v17 (docs/attachments.md): upload sessions, each stored part's R2 etag, and the files due to
  // be deleted from R2 (an upload not posted in time or given up, a deleted or redacted
  // message's). Not projections: an upload exists before any event names it; posting, deleting
  // and redacting update them in the event's own transaction (file-deletions.ts).
  `CREATE TABLE uploads (
     id TEXT PRIMARY KEY,
     uploader_id TEXT NOT NULL,
     client_id TEXT,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     size INTEGER NOT NULL,
     duration_ms INTEGER,
     waveform TEXT,
     type TEXT,
     state TEXT NOT NULL,
     multipart TEXT,
     message_id INTEGER,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL);
   CREATE UNIQUE INDEX uploads_client ON uploads (uploader_id, client_id) WHERE client_id IS NOT NULL;
   CREATE INDEX uploads_uploader ON uploads (uploader_id, state);
   CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
   CREATE TABLE upload_parts (
     upload_id TEXT NOT NULL,
     part INTEGER NOT NULL,
     etag TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     PRIMARY KEY (upload_id, part)) WITHOUT ROWID;
   CREATE TABLE file_deletions (
     attachment_id TEXT PRIMARY KEY,
     due_at INTEGER NOT NULL,
     reason TEXT NOT NULL,
     multipart TEXT,
     attempts INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX file_deletions_due ON file_deletions (due_at);`,
];

/** A room migrated from below this version rebuilds its projections from its log once. */
const REBUILT_AT = 9;

/** Tables rebuilt from the log by `rebuildProjections`. */
export const PROJECTION_TABLES = [
  "room",
  "members",
  "messages",
  "reactions",
  "bans",
  "mutes",
  "invites",
  "actions",
  "snapshots",
  "rules",
  "room_plugins",
] as const;

/**
 * Applies the migrations this object has not run yet; returns the schema version, and whether
 * the projections must be rebuilt from the log (a room older than a migration that changed what
 * an event projects).
 */
export function migrate(storage: DurableObjectStorage): { version: number; rebuild: boolean } {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const from = row?.version ?? 0;
  const rebuild = from > 0 && from < REBUILT_AT;
  let version = from;
  if (version >= MIGRATIONS.length) return { version, rebuild };
  storage.transactionSync(() => {
    for (; version < MIGRATIONS.length; version++) sql.exec(MIGRATIONS[version]!);
    sql.exec("DELETE FROM schema_version");
    sql.exec("INSERT INTO schema_version (version) VALUES (?)", version);
  });
  return { version, rebuild };
}
