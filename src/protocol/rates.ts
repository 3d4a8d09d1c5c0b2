/** A token bucket: `burst` tokens, refilled at `perSecond`. Pure: the caller keeps the state. */
export type Bucket = { tokens: number; at: number };
export type Rate = { perSecond: number; burst: number };

/** Commands per connection (PROTOCOL.md: 20 a second, bursts of 40). */
export const COMMAND_RATE: Rate = { perSecond: 20, burst: 40 };

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

/** Milliseconds until `bucket` has a token again (0 when it has one now). */
export function tokenWaitMs(bucket: Bucket | undefined, rate: Rate, now: number): number {
  const { allowed, bucket: after } = take(bucket, rate, now);
  return allowed ? 0 : Math.ceil(((1 - after.tokens) / rate.perSecond) * 1000);
}
