import type { AuditAction, AuditEntry, AuditEntryInput } from "../protocol/index.ts";
import { chainEntry, EMPTY_HEAD, type ChainHead } from "./entry.ts";
import { sqliteWhere, type AuditFilter } from "./filter.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL,
    actor_id TEXT NOT NULL, actor_name TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, ip TEXT, data TEXT NOT NULL, ref TEXT UNIQUE,
    content_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS entries_actor ON entries (actor_id, seq);
  CREATE INDEX IF NOT EXISTS entries_actor_name ON entries (lower(actor_name), seq);
  CREATE INDEX IF NOT EXISTS entries_action ON entries (action, seq);
  CREATE INDEX IF NOT EXISTS entries_at ON entries (at);`;

type Row = {
  seq: number;
  id: string;
  at: number;
  actor_id: string;
  actor_name: string;
  action: string;
  target: string;
  ip: string | null;
  data: string;
  content_hash: string;
  prev_hash: string;
  hash: string;
};
const COLUMNS =
  "seq, id, at, actor_id, actor_name, action, target, ip, data, content_hash, prev_hash, hash";

/**
 * The instance audit log's table: append-only, `seq` the rowid, each entry chained to the one
 * before (entry.ts). Rows are only ever appended, inside the caller's transaction.
 */
export class AuditStore {
  readonly #sql: SqlStorage;
  #head: ChainHead;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(SCHEMA);
    const last = sql
      .exec<{ seq: number; hash: string }>(
        "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    this.#head = last ?? EMPTY_HEAD;
  }

  get head(): ChainHead {
    return this.#head;
  }

  /**
   * Chains and stores `inputs` in order, skipping those whose `ref` is already stored. Call
   * inside a transaction: the head moves only once every row is written.
   */
  append(inputs: readonly AuditEntryInput[], newId: (at: number) => string): AuditEntry[] {
    let head = this.#head;
    const stored: AuditEntry[] = [];
    const refs = new Set<string>();
    for (const input of inputs) {
      if (input.ref !== undefined && (refs.has(input.ref) || this.#hasRef(input.ref))) continue;
      if (input.ref !== undefined) refs.add(input.ref);
      const entry = chainEntry(input, head, newId(input.at));
      this.#insert(entry, input.ref ?? null);
      stored.push(entry);
      head = { seq: entry.seq, hash: entry.hash };
    }
    this.#head = head;
    return stored;
  }

  /** Entries passing `filter`, newest first, one more than its limit (filter.ts's pageOf). */
  list(filter: AuditFilter): AuditEntry[] {
    const { where, params } = sqliteWhere(filter);
    return this.#sql
      .exec<Row>(
        `SELECT ${COLUMNS} FROM entries ${where} ORDER BY seq DESC LIMIT ?`,
        ...params,
        filter.limit + 1,
      )
      .toArray()
      .map(entryOf);
  }

  /** Every entry in seq order, read as it is walked (a long log never sits in memory). */
  *all(): Generator<AuditEntry> {
    for (const row of this.#sql.exec<Row>(`SELECT ${COLUMNS} FROM entries ORDER BY seq`))
      yield entryOf(row);
  }

  /** At most `limit` entries after seq `after`, in order: a batch for the flush. */
  range(after: number, limit: number): AuditEntry[] {
    return this.#sql
      .exec<Row>(`SELECT ${COLUMNS} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
      .toArray()
      .map(entryOf);
  }

  /** The stored hash of entry `seq`, if there is one. */
  hashAt(seq: number): string | undefined {
    return (
      this.#sql.exec<{ hash: string }>("SELECT hash FROM entries WHERE seq = ?", seq).toArray()[0]
        ?.hash ?? undefined
    );
  }

  #hasRef(ref: string): boolean {
    return this.#sql.exec("SELECT 1 FROM entries WHERE ref = ?", ref).toArray().length > 0;
  }

  #insert(e: AuditEntry, ref: string | null): void {
    this.#sql.exec(
      `INSERT INTO entries (${COLUMNS}, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      e.seq,
      e.id,
      e.at,
      e.actor.id,
      e.actor.name,
      e.action,
      JSON.stringify(e.target),
      e.ip,
      JSON.stringify(e.data),
      e.contentHash,
      e.prevHash,
      e.hash,
      ref,
    );
  }
}

/**
 * A stored row as an entry. Not parsed against the schema: a row altered on disk must still be
 * served and verified (and reported), not refused.
 */
function entryOf(row: Row): AuditEntry {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    actor: { id: row.actor_id, name: row.actor_name },
    action: row.action as AuditAction,
    target: JSON.parse(row.target) as AuditEntry["target"],
    ip: row.ip,
    data: JSON.parse(row.data) as AuditEntry["data"],
    contentHash: row.content_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
