import { DurableObject } from "cloudflare:workers";
import type { RoomInfo } from "../protocol/index.ts";

type Row = {
  name: string;
  topic: string;
  visibility: "public" | "private";
  created_at: number;
  last_seq: number;
  members: number;
  online: number;
};

/**
 * The room directory: one object holding a summary row per room, pushed by each Room after it
 * changes. A projection, not a source of truth: rooms re-send their summary whenever it moves.
 * With Postgres, /api/directory also serves public rooms with activity figures from the replicas.
 */
export class Directory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS rooms (
      name TEXT PRIMARY KEY, topic TEXT NOT NULL, visibility TEXT NOT NULL, created_at INTEGER NOT NULL,
      last_seq INTEGER NOT NULL, members INTEGER NOT NULL, online INTEGER NOT NULL)`);
  }

  /** Stores a room's summary; an older summary (smaller lastSeq) never replaces a newer one's log figures. */
  async upsert(info: RoomInfo): Promise<void> {
    this.ctx.storage.sql.exec(
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

  /** The public rooms, busiest first. */
  /** Every room's name, private ones included: for the admin's flush backlog view. */
  async listNames(limit = 1000): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM rooms ORDER BY last_seq DESC LIMIT ?", limit)
      .toArray()
      .map((row) => row.name);
  }

  async listPublic(limit = 500): Promise<RoomInfo[]> {
    return this.ctx.storage.sql
      .exec<Row>(
        "SELECT * FROM rooms WHERE visibility = 'public' ORDER BY online DESC, last_seq DESC, name LIMIT ?",
        limit,
      )
      .toArray()
      .map((row) => ({
        name: row.name,
        topic: row.topic,
        visibility: row.visibility,
        createdAt: row.created_at,
        lastSeq: row.last_seq,
        members: row.members,
        online: row.online,
      }));
  }
}
