/** Reconnect delays: exponential growth, capped, with full jitter so that a crowd of clients
 * dropped at once (a deploy closes every socket with 1012) does not come back in lock step. */
export type BackoffOptions = { baseMs: number; maxMs: number };

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 15_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first).
 * @example backoffDelay(3, DEFAULT_BACKOFF, () => 0.5) // 1000
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
