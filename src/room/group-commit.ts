/**
 * Group commit. Commands that arrive while the room is busy (a commit is on its way to disk, or
 * the room is still reading what came in meanwhile) wait in a queue; the next turn takes them
 * all, decides them one by one in arrival order and writes them in one transaction. An idle
 * room runs a command at once: nothing ever waits for company.
 *
 * Past its limits the queue refuses instead of growing: a room that cannot keep up says so
 * (`overloaded`, with when to try again) rather than accepting work it would deliver late.
 * Pure apart from the two functions it is given, so it is tested without a runtime.
 */
export type QueueLimits = {
  /** Commands waiting at most. */
  readonly maxQueued: number;
  /** How long the oldest waiting command may have waited before new ones are refused (ms). */
  readonly maxWaitMs: number;
  /** How late the room's events may reach its clients before new commands are refused (ms). */
  readonly maxLagMs: number;
};

export const QUEUE_LIMITS: QueueLimits = { maxQueued: 2000, maxWaitMs: 250, maxLagMs: 500 };

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/** What waits: how many commands, and how long the oldest has. */
export type Backlog = { queued: number; oldestWaitMs: number };

export class GroupCommit<Job> {
  readonly #commit: (jobs: Job[]) => void;
  readonly #settle: () => Promise<void>;
  readonly #limits: QueueLimits;
  #queue: { job: Job; at: number }[] = [];
  #running = false;

  /**
   * `commit` decides, writes and answers one batch (synchronously: no other event interleaves);
   * `settle` resolves once that batch is durable and what arrived meanwhile has been read.
   */
  constructor(commit: (jobs: Job[]) => void, settle: () => Promise<void>, limits = QUEUE_LIMITS) {
    this.#commit = commit;
    this.#settle = settle;
    this.#limits = limits;
  }
  #turnSize: () => number = () => Number.POSITIVE_INFINITY;

  /**
   * How many commands one turn may take. A turn holds the thread (commit and fan-out), and frames
   * that arrive meanwhile wait unseen in the network until it ends: a bounded turn keeps that
   * wait short and lets the queue, which the limits can see, take the load instead.
   */
  boundTurns(size: () => number): void {
    this.#turnSize = size;
  }

  /**
   * Queues `job`, or refuses it when the room is too far behind: too many waiting, the oldest
   * waiting too long, or its events reaching clients too late (`deliveryLagMs`, see
   * delivery-lag.ts). An idle room runs it now.
   */
  offer(job: Job, now: number, deliveryLagMs = 0): Admission {
    const { queued, oldestWaitMs } = this.backlog(now);
    const { maxQueued, maxWaitMs, maxLagMs } = this.#limits;
    if (queued >= maxQueued || oldestWaitMs > maxWaitMs || deliveryLagMs > maxLagMs) {
      // Come back once the room has had time to get through what it holds now.
      const behindMs = Math.max(oldestWaitMs, deliveryLagMs);
      return { ok: false, retryAfterMs: Math.max(100, Math.min(5_000, 2 * behindMs)) };
    }
    this.#queue.push({ job, at: now });
    if (!this.#running) void this.#run();
    return { ok: true };
  }

  backlog(now: number): Backlog {
    const oldest = this.#queue[0];
    return { queued: this.#queue.length, oldestWaitMs: oldest ? now - oldest.at : 0 };
  }

  get running(): boolean {
    return this.#running;
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const size = Math.max(1, Math.floor(this.#turnSize()));
        const jobs = this.#queue.splice(0, size).map((queued) => queued.job);
        this.#commit(jobs);
        await this.#settle();
      }
    } finally {
      this.#running = false;
    }
  }
}
