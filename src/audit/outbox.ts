import { CursorOutbox } from "../cursor-outbox.ts";
import type { AuditEntry } from "../protocol/index.ts";
import type { AuditStore } from "./store.ts";

/**
 * Where the log's entries go on to (Postgres, wired in src/index.ts): writes a contiguous batch
 * exactly once in effect and answers how far the mirror now reaches.
 */
export type AuditSink = { write(batch: readonly AuditEntry[]): Promise<number> };

/**
 * The log's side of its Postgres mirror, as a room's (src/cursor-outbox.ts): a cursor into the
 * log, which is itself the backlog. The object's alarm runs `flush()`.
 */
export function auditOutbox(
  sql: SqlStorage,
  store: AuditStore,
  sink: AuditSink | undefined,
): CursorOutbox<AuditEntry> {
  sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    flushed_seq INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT);
    INSERT OR IGNORE INTO outbox VALUES (1, 0, 0, NULL);`);
  return new CursorOutbox(sql, {
    name: () => "the instance audit log",
    read: (after, limit) => store.range(after, limit),
    lastSeq: () => store.head.seq,
    write: sink && ((batch) => sink.write(batch)),
  });
}
