import { take, tokenWaitMs, type Bucket, type Rate, type Refusal } from "../protocol/index.ts";

export { COMMAND_RATE } from "../protocol/index.ts";

/** Malformed frames a connection may send before it is closed with 4400. */
export const MALFORMED_RATE: Rate = { perSecond: 1, burst: 20 };
/** Rate-limited frames a connection may keep sending before it is closed with 4429. */
export const REJECTED_RATE: Rate = { perSecond: 5, burst: 100 };
/** `received` reports: the SDK sends one per 100 events, or one per 5 s; past this they are dropped. */
export const REPORT_RATE: Rate = { perSecond: 10, burst: 20 };
/** Typing notices are relayed at most once per user per 2 s. */
export const TYPING_INTERVAL_MS = 2000;

/** Per-key buckets held in memory; they reset when the object hibernates, which only forgives. */
export class Limiter {
  readonly rate: Rate;
  readonly #buckets = new Map<string, Bucket>();
  constructor(rate: Rate) {
    this.rate = rate;
  }

  allow(key: string, now: number): boolean {
    const { allowed, bucket } = take(this.#buckets.get(key), this.rate, now);
    this.#buckets.set(key, bucket);
    return allowed;
  }

  /** Milliseconds until `key` has a token again (0 when it has one now). */
  waitMs(key: string, now: number): number {
    return tokenWaitMs(this.#buckets.get(key), this.rate, now);
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}

/**
 * Commands per user in one room, however they arrive (docs/limits.md): one bucket per user. In
 * memory, like the gate's: hibernation merely refills the buckets.
 */
export class CommandBudget {
  readonly #limiter: Limiter;
  constructor(rate: Rate) {
    this.#limiter = new Limiter(rate);
  }

  /** Spends one command of `userId`'s budget; the refusal when it is spent. */
  spend(userId: string, now: number): Refusal | undefined {
    if (this.#limiter.allow(userId, now)) return undefined;
    return {
      code: "rate_limited",
      message: `slow down: at most ${this.#limiter.rate.perSecond} commands a second in this room`,
      retryAfter: this.#limiter.waitMs(userId, now) / 1000,
    };
  }
}
