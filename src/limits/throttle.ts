import { DurableObject } from "cloudflare:workers";
import { nextBlock, type Strikes } from "./blocks.ts";

/**
 * Counts attempts per key (an IP address) in a fixed window; past the limit the key is blocked,
 * each block twice as long as the one before while the abuse goes on. One object per key, so
 * the count holds across every worker instance.
 */
export class Throttle extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS strikes (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), window_start INTEGER NOT NULL, count INTEGER NOT NULL, blocked_until INTEGER NOT NULL, blocks INTEGER NOT NULL)",
    );
  }

  /** Counts one attempt; answers 0 when allowed, or the seconds to wait. */
  async attempt(limit: number, windowSeconds: number): Promise<number> {
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<Strikes>("SELECT window_start, count, blocked_until, blocks FROM strikes")
      .toArray()[0];
    const { state, waitSeconds } = nextBlock(row, Date.now(), limit, windowSeconds * 1000);
    sql.exec(
      "INSERT OR REPLACE INTO strikes (singleton, window_start, count, blocked_until, blocks) VALUES (1, ?, ?, ?, ?)",
      state.window_start,
      state.count,
      state.blocked_until,
      state.blocks,
    );
    return waitSeconds;
  }
}
