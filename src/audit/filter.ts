import type { AuditEntry, AuditQuery } from "../protocol/index.ts";

/** What an admin asks of the log (the query of `GET /api/admin/audit`): filters combined with AND. */
export type AuditFilter = AuditQuery;

/**
 * Whether `entry` passes `filter`: the rule the SQL of the log (sqliteWhere) and of its Postgres
 * mirror (src/db/audit-reads.ts) implement, and what their tests hold them to.
 */
export function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  const actor = filter.actor;
  if (
    actor !== undefined &&
    entry.actor.id !== actor &&
    entry.actor.name.toLowerCase() !== actor.toLowerCase()
  )
    return false;
  if (filter.action !== undefined && entry.action !== filter.action) return false;
  if (filter.since !== undefined && entry.at < filter.since) return false;
  if (filter.until !== undefined && entry.at > filter.until) return false;
  if (filter.before !== undefined && entry.seq >= filter.before) return false;
  return true;
}

/** The WHERE clause (and its bound values) of `filter` over the log's `entries` table. */
export function sqliteWhere(filter: AuditFilter): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, ...values: (string | number)[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.actor !== undefined)
    add("(actor_id = ? OR lower(actor_name) = lower(?))", filter.actor, filter.actor);
  if (filter.action !== undefined) add("action = ?", filter.action);
  if (filter.since !== undefined) add("at >= ?", filter.since);
  if (filter.until !== undefined) add("at <= ?", filter.until);
  if (filter.before !== undefined) add("seq < ?", filter.before);
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

/**
 * A page from the rows a query fetched, newest first, with one more than `limit` asked for:
 * that extra row only says whether an older page exists. The cursor is the oldest seq shown.
 */
export function pageOf(
  fetched: readonly AuditEntry[],
  limit: number,
): { entries: AuditEntry[]; nextBefore: number | null } {
  const entries = fetched.slice(0, limit);
  const more = fetched.length > limit;
  return { entries, nextBefore: more ? entries.at(-1)!.seq : null };
}
