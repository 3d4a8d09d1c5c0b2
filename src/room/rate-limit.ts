/** A token bucket: `burst` tokens, refilled at `perSecond`. Pure: the caller keeps the state. */
export type Bucket = { tokens: number; at: number };
export type Rate = { perSecond: number; burst: number };

/** Commands per connection (PROTOCOL.md: 20 a second, bursts of 40). */
export const COMMAND_RATE: Rate = { perSecond: 20, burst: 40 };
/** Malformed frames a connection may send before it is closed with 4400. */
export const MALFORMED_RATE: Rate = { perSecond: 1, burst: 20 };
/** Rate-limited frames a connection may keep sending before it is closed with 4429. */
export const REJECTED_RATE: Rate = { perSecond: 5, burst: 100 };
/** `received` reports: the SDK sends at most one a second or per 100 events; past this they are dropped. */
export const REPORT_RATE: Rate = { perSecond: 10, burst: 20 };
/** Typing notices are relayed at most once per user per 2 s. */
export const TYPING_INTERVAL_MS = 2000;

/**
 * Takes one token at `now` (ms).
 * @example take(undefined, COMMAND_RATE, 0) // { allowed: true, bucket: { tokens: 39, at: 0 } }
 */
export function take(
  bucket: Bucket | undefined,
  rate: Rate,
  now: number,
): { allowed: boolean; bucket: Bucket } {
  const elapsed = bucket ? Math.max(0, now - bucket.at) / 1000 : 0;
  const tokens = Math.min(rate.burst, (bucket?.tokens ?? rate.burst) + elapsed * rate.perSecond);
  if (tokens < 1) return { allowed: false, bucket: { tokens, at: now } };
  return { allowed: true, bucket: { tokens: tokens - 1, at: now } };
}

/** Seconds until the next token: the `Retry-After` of a refusal. */
export function retryAfterSeconds(bucket: Bucket, rate: Rate): number {
  return Math.max(1, Math.ceil((1 - bucket.tokens) / rate.perSecond));
}

/** Per-key buckets held in memory; they reset when the object hibernates, which only forgives. */
export class Limiter {
  readonly #rate: Rate;
  readonly #buckets = new Map<string, Bucket>();
  constructor(rate: Rate) {
    this.#rate = rate;
  }

  allow(key: string, now: number): boolean {
    const { allowed, bucket } = take(this.#buckets.get(key), this.#rate, now);
    this.#buckets.set(key, bucket);
    return allowed;
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}
