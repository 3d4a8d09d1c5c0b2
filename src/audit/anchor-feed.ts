import { errorFields, log } from "../telemetry/log.ts";

/** A chain's head as an anchor keeps it: how far the log had reached, and its hash there. */
export type AnchoredHead = { lastSeq: number; head: string };

/**
 * How often at most a busy room tells its anchor: a call per commit cost a busy room a fifth of
 * its CPU (docs/audit.md). The price: events committed in the last interval before someone cut
 * the log's end may go unseen.
 */
export const ANCHOR_INTERVAL_MS = 250;

/**
 * Tells a room's anchor its head after commits, one call at a time and at most one per
 * ANCHOR_INTERVAL_MS: heads that come during a call or the interval after it are folded into
 * the next (the latest one wins). A lone commit is told at once. A failed call is retried with
 * the next commit.
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
          log.warn("the chain's anchor was not told", { error: errorFields(error) }),
        );
        // Wait out the interval even if no head came during the call: a call is short, so at
        // 100 commits a second each ends before the next commit, and the room would call the
        // anchor on nearly every commit (bench/where.ts measured it at a third of a post's CPU).
        await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
      }
    } finally {
      this.#busy = false;
    }
  }
}
