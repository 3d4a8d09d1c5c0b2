import { eq } from "drizzle-orm";
import type { AuditEntry } from "../protocol/index.ts";
import type { Db } from "./connect.ts";
import { auditCursor, auditLog } from "./schema.ts";

/** The one log there is; the cursor table is keyed anyway, should a second ever come. */
const LOG = "instance";

/**
 * Writes a contiguous run of the audit log's entries in one transaction and returns the
 * mirror's cursor afterwards: exactly once in effect, as the rooms' flush (flush.ts). The
 * cursor row is locked, entries it already holds are skipped, and it moves with the rows; a
 * batch that would leave a gap writes nothing, so that the log resends from the cursor.
 */
export async function flushAudit(db: Db, batch: readonly AuditEntry[]): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.insert(auditCursor).values({ log: LOG, seq: 0, flushedAt: 0 }).onConflictDoNothing();
    const [row] = await tx
      .select({ seq: auditCursor.seq })
      .from(auditCursor)
      .where(eq(auditCursor.log, LOG))
      .for("update");
    const cursor = row?.seq ?? 0;
    const fresh = batch.filter((entry) => entry.seq > cursor);
    if (fresh.length === 0 || fresh[0]!.seq !== cursor + 1) return cursor;
    await tx.insert(auditLog).values(fresh.map(auditRow)).onConflictDoNothing();
    const last = fresh.at(-1)!.seq;
    await tx
      .update(auditCursor)
      .set({ seq: last, flushedAt: Date.now() })
      .where(eq(auditCursor.log, LOG));
    return last;
  });
}

export function auditRow(entry: AuditEntry) {
  return {
    seq: entry.seq,
    id: entry.id,
    at: entry.at,
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    action: entry.action,
    target: entry.target,
    ip: entry.ip,
    data: entry.data,
    contentHash: entry.contentHash,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
}
