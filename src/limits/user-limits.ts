import { DurableObject } from "cloudflare:workers";

/**
 * A socket count older than this is not counted: a room that stopped without closing its
 * sockets (a restart) cannot lock its users out for longer. A live room refreshes a user's
 * count whenever one of their sockets opens or closes there.
 */
const SOCKET_COUNT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One user's standing caps across the instance (docs/limits.md): the rooms they own and their
 * open sockets in every room. One object per user id, asked only when a room is created or
 * changes hands and when a socket opens or closes, never per message.
 */
export class UserLimits extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS owned (room TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS sockets (room TEXT PRIMARY KEY, count INTEGER NOT NULL, at INTEGER NOT NULL);`);
  }

  /** Counts `room` as owned, unless `max` rooms are owned already; true when counted. */
  async claimRoom(room: string, max = Number.POSITIVE_INFINITY): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const owned = sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM owned WHERE room <> ?", room)
      .one().n;
    if (owned >= max) return false;
    sql.exec("INSERT OR IGNORE INTO owned (room) VALUES (?)", room);
    return true;
  }

  async releaseRoom(room: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM owned WHERE room = ?", room);
  }

  /**
   * This user now has `count` sockets open in `room`. With `max`, refused (false, nothing
   * stored) when that would bring their sockets in all rooms past `max`.
   */
  async setSockets(room: string, count: number, max = Number.POSITIVE_INFINITY): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const elsewhere = sql
      .exec<{ n: number | null }>(
        "SELECT sum(count) AS n FROM sockets WHERE room <> ? AND at > ?",
        room,
        now - SOCKET_COUNT_TTL_MS,
      )
      .one().n;
    if ((elsewhere ?? 0) + count > max) return false;
    if (count === 0) sql.exec("DELETE FROM sockets WHERE room = ?", room);
    else
      sql.exec(
        "INSERT OR REPLACE INTO sockets (room, count, at) VALUES (?, ?, ?)",
        room,
        count,
        now,
      );
    return true;
  }
}
