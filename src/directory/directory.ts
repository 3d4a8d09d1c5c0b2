import { DurableObject } from "cloudflare:workers";
import type { RoomInfo, RoomSort } from "../protocol/index.ts";
import { SNAPSHOT_KEEP, SORT_COLUMNS, snapshotOf, type Place, type ShardPage } from "./listing.ts";

type Row = {
  name: string;
  topic: string;
  visibility: "public" | "private";
  created_at: number;
  last_seq: number;
  members: number;
  online: number;
};

/** What a shard is asked for one page of a walk. */
export type PageRequest = {
  snapshot: number;
  sort: RoomSort;
  prefix: string;
  after: Place | undefined;
  limit: number;
};

/**
 * One shard of the room directory (docs/directory.md): a summary row per room whose name hashes
 * here, pushed by each Room after it changes. A projection, not a source of truth: rooms re-send
 * their summary whenever it moves. Listings read a per-minute snapshot of the figures they sort
 * by (`ranks`), so that one walk through the pages sees one order.
 */
export class Directory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS rooms (
        name TEXT PRIMARY KEY, topic TEXT NOT NULL, visibility TEXT NOT NULL, created_at INTEGER NOT NULL,
        last_seq INTEGER NOT NULL, members INTEGER NOT NULL, online INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS snapshots (snapshot INTEGER PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS ranks (
        snapshot INTEGER NOT NULL, name TEXT NOT NULL,
        neg_online INTEGER NOT NULL, neg_last_seq INTEGER NOT NULL,
        neg_created_at INTEGER NOT NULL, neg_members INTEGER NOT NULL,
        PRIMARY KEY (snapshot, name));
      CREATE INDEX IF NOT EXISTS ranks_activity ON ranks (snapshot, neg_online, neg_last_seq, name);
      CREATE INDEX IF NOT EXISTS ranks_newest ON ranks (snapshot, neg_created_at, name);
      CREATE INDEX IF NOT EXISTS ranks_members ON ranks (snapshot, neg_members, name);`);
  }

  /**
   * Stores a room's summary; an older summary (smaller lastSeq) never replaces a newer one's log
   * figures. A room new to the snapshots that walks are reading gets its place in each, as it is
   * now and fixed from then on: it may come up in a walk under way, and never twice.
   */
  async upsert(info: RoomInfo): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (info.visibility === "public")
      sql.exec(
        `INSERT OR IGNORE INTO ranks (snapshot, name, neg_online, neg_last_seq, neg_created_at, neg_members)
         SELECT snapshot, ?, ?, ?, ?, ? FROM snapshots`,
        info.name,
        -info.online,
        -info.lastSeq,
        -info.createdAt,
        -info.members,
      );
    sql.exec(
      `INSERT INTO rooms (name, topic, visibility, created_at, last_seq, members, online) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET topic = excluded.topic, visibility = excluded.visibility,
         last_seq = max(last_seq, excluded.last_seq), members = excluded.members, online = excluded.online`,
      info.name,
      info.topic,
      info.visibility,
      info.createdAt,
      info.lastSeq,
      info.members,
      info.online,
    );
  }

  /**
   * Up to `limit + 1` public rooms after `after` in `sort`, as ranked in `snapshot` (taken now if
   * this shard has not taken it yet); undefined when that snapshot is too old to exist any more.
   * Rooms made private since the snapshot are left out; the figures returned are the live ones.
   */
  async page(request: PageRequest): Promise<ShardPage | undefined> {
    const { snapshot, sort, prefix, after, limit } = request;
    if (!this.#snapshot(snapshot)) return undefined;
    const columns = SORT_COLUMNS[sort];
    // A room's place: its sort's columns, then its name, all ascending (row values compare in order).
    const place = [...columns.map((c) => `k.${c}`), "k.name"].join(", ");
    const marks = place.replace(/[^,]+/g, "?");
    const cursor = after ? `AND (${place}) > (${marks})` : "";
    // Without a prefix no name range at all: SQLite would take it for a reason to read the
    // snapshot by name and sort it, instead of reading the sort's index.
    const named = prefix ? "AND k.name >= ? AND k.name < ?" : "";
    // CROSS JOIN keeps SQLite reading the snapshot's index in order (and stopping at the limit)
    // rather than scanning every room and sorting.
    const rows = this.ctx.storage.sql
      .exec<Row & { key0: number; key1: number | null }>(
        `SELECT r.*, k.${columns[0]} AS key0, ${columns[1] ? `k.${columns[1]}` : "NULL"} AS key1
         FROM ranks k CROSS JOIN rooms r ON r.name = k.name
         WHERE k.snapshot = ? AND r.visibility = 'public' ${named} ${cursor}
         ORDER BY ${place} LIMIT ?`,
        snapshot,
        ...(prefix ? [prefix, `${prefix}\u{10FFFF}`] : []),
        ...(after ? [...after.keys, after.name] : []),
        limit + 1,
      )
      .toArray();
    return {
      rooms: rows.map((row) => ({
        info: toInfo(row),
        place: { keys: row.key1 === null ? [row.key0] : [row.key0, row.key1], name: row.name },
      })),
    };
  }

  /** Every room's name, private ones included, busiest first: for the admin's flush backlog view. */
  async listNames(limit = 1000): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM rooms ORDER BY last_seq DESC LIMIT ?", limit)
      .toArray()
      .map((row) => row.name);
  }

  /** Makes sure `snapshot` is here (taking it if it is the current minute's or close); false if gone. */
  #snapshot(snapshot: number): boolean {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM snapshots WHERE snapshot = ?", snapshot).toArray().length > 0)
      return true;
    const current = snapshotOf(Date.now());
    if (snapshot < current - SNAPSHOT_KEEP || snapshot > current + 1) return false;
    this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT INTO snapshots (snapshot) VALUES (?)", snapshot);
      sql.exec(
        `INSERT INTO ranks (snapshot, name, neg_online, neg_last_seq, neg_created_at, neg_members)
         SELECT ?, name, -online, -last_seq, -created_at, -members FROM rooms WHERE visibility = 'public'`,
        snapshot,
      );
      const stale = current - SNAPSHOT_KEEP;
      sql.exec("DELETE FROM ranks WHERE snapshot < ?", stale);
      sql.exec("DELETE FROM snapshots WHERE snapshot < ?", stale);
    });
    return true;
  }
}

function toInfo(row: Row): RoomInfo {
  return {
    name: row.name,
    topic: row.topic,
    visibility: row.visibility,
    createdAt: row.created_at,
    lastSeq: row.last_seq,
    members: row.members,
    online: row.online,
  };
}
