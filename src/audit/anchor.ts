import { DurableObject } from "cloudflare:workers";

import type { AnchoredHead } from "./anchor-feed.ts";

export type { AnchoredHead } from "./anchor-feed.ts";

/**
 * Where a room's chain head is kept outside the room's own storage (docs/audit.md): one object
 * per room, told the head after the room's commits. Cutting events off the end of a room's log
 * leaves a chain that verifies by itself; the head kept here says how far the log had reached.
 * It only moves forward.
 */
export class AuditAnchor extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS head (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), last_seq INTEGER NOT NULL, head TEXT NOT NULL)",
    );
  }

  async advance(anchored: AnchoredHead): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO head (singleton, last_seq, head) VALUES (1, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET last_seq = excluded.last_seq, head = excluded.head
       WHERE excluded.last_seq > head.last_seq`,
      anchored.lastSeq,
      anchored.head,
    );
  }

  async read(): Promise<AnchoredHead | undefined> {
    const row = this.ctx.storage.sql
      .exec<{ last_seq: number; head: string }>("SELECT last_seq, head FROM head")
      .toArray()[0];
    return row && { lastSeq: row.last_seq, head: row.head };
  }
}
