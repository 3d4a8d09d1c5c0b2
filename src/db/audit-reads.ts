import { and, desc, eq, gte, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { AuditAction, AuditEntry, AuditQuery } from "../protocol/index.ts";
import type { Db } from "./connect.ts";
import { auditLog } from "./schema.ts";

/**
 * Entries of the audit log's mirror passing `filter`, newest first, one more than the limit
 * (the extra row says whether an older page exists).
 */
export async function auditEntries(db: Db, filter: AuditQuery): Promise<AuditEntry[]> {
  const where: SQL[] = [];
  if (filter.actor !== undefined)
    where.push(
      or(
        eq(auditLog.actorId, filter.actor),
        sql`lower(${auditLog.actorName}) = lower(${filter.actor})`,
      )!,
    );
  if (filter.action !== undefined) where.push(eq(auditLog.action, filter.action));
  if (filter.since !== undefined) where.push(gte(auditLog.at, filter.since));
  if (filter.until !== undefined) where.push(lte(auditLog.at, filter.until));
  if (filter.before !== undefined) where.push(lt(auditLog.seq, filter.before));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(filter.limit + 1);
  return rows.map((row) => ({
    seq: row.seq,
    id: row.id,
    at: row.at,
    actor: { id: row.actorId, name: row.actorName },
    action: row.action as AuditAction,
    target: row.target as AuditEntry["target"],
    ip: row.ip,
    data: row.data as AuditEntry["data"],
    contentHash: row.contentHash,
    prevHash: row.prevHash,
    hash: row.hash,
  }));
}
