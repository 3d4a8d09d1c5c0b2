import { AnchorFeed, type AnchoredHead } from "../audit/anchor-feed.ts";
import { checkAnchor, verifyChain, type ChainReport } from "../protocol/index.ts";
import type { EventLog } from "./log.ts";

/** The calls made on a room's AuditAnchor object (src/audit/anchor.ts). */
export type AnchorStub = {
  advance(head: AnchoredHead): Promise<void>;
  read(): Promise<AnchoredHead | undefined>;
};

/**
 * The room's side of its audit trail (docs/audit.md): it tells the anchor kept outside the room
 * where the chain has reached, verifies the stored chain against it, and pages the log out for
 * the export. Permission checks stay with the room.
 */
export class RoomAudit {
  readonly #log: EventLog;
  readonly #anchor: () => AnchorStub;
  readonly #feed: AnchorFeed;
  readonly #keepAlive: (work: Promise<unknown>) => void;

  constructor(
    log: EventLog,
    anchor: () => AnchorStub,
    keepAlive: (work: Promise<unknown>) => void,
  ) {
    this.#log = log;
    this.#anchor = anchor;
    this.#keepAlive = keepAlive;
    this.#feed = new AnchorFeed((head) => this.#anchor().advance(head));
  }

  /** Events were committed: the anchor hears of the new head (folded, see AnchorFeed). */
  committed(): void {
    this.#keepAlive(this.#feed.push({ lastSeq: this.#log.lastSeq, head: this.#log.head }));
  }

  /** Recomputes the chain from the stored events, then checks it against the anchored head. */
  async verify(): Promise<ChainReport> {
    const verdict = verifyChain(this.#log.chain());
    if (!verdict.ok) return verdict;
    const anchored = await this.#anchor().read();
    return checkAnchor(verdict, anchored, (seq) => this.#log.hashAt(seq));
  }

  /** One JSON line per stored event after `after`, at most `limit`, and the last seq (0: none). */
  page(after: number, limit: number): { lines: string[]; last: number } {
    const page = this.#log.chainPage(after, limit);
    return { lines: page.map((e) => JSON.stringify(e)), last: page.at(-1)?.seq ?? 0 };
  }
}
