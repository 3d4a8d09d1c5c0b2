import { DurableObject } from "cloudflare:workers";

export type AnchoredHead = { lastSeq: number; head: string };

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

/**
 * How often at most a busy room tells its anchor: a call per commit cost a busy room a fifth of
 * its CPU (docs/audit.md). The price: events committed in the last interval before someone cut
 * the log's end may go unseen.
 */
export const ANCHOR_INTERVAL_MS = 250;

/**
 * Tells a room's anchor its head after commits, one call at a time and at most one per
 * ANCHOR_INTERVAL_MS: heads that come meanwhile are folded into the next (the latest one wins).
 * A failed call is retried with the next commit.
 */
export class AnchorFeed {
  readonly #send: (head: AnchoredHead) => Promise<void>;
  readonly #intervalMs: number;
  #next: AnchoredHead | undefined;
  #busy = false;

  constructor(send: (head: AnchoredHead) => Promise<void>, intervalMs = ANCHOR_INTERVAL_MS) {
    this.#send = send;
    this.#intervalMs = intervalMs;
  }

  /** The head after a commit; resolves once it (or a later one) reached the anchor. */
  async push(head: AnchoredHead): Promise<void> {
    this.#next = head;
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#next) {
        const sending = this.#next;
        this.#next = undefined;
        await this.#send(sending).catch((error: unknown) =>
          console.warn("edgechat: the chain's anchor was not told", error),
        );
        if (this.#next) await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
      }
    } finally {
      this.#busy = false;
    }
  }
}
