/**
 * When a failed webhook delivery is tried again (docs/integrations.md): the Standard Webhooks
 * schedule (the one Svix publishes), in seconds after each failure: eight tries over 27.6 h;
 * then the message goes to the dead-letter queue. Queues delay a message by at most 12 h.
 */
export const DEFAULT_RETRY_DELAYS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** The longest delay Cloudflare Queues accepts for a retried message. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

/**
 * The seconds to wait before the try after the `failures`-th failure, or undefined when the
 * schedule is spent. A receiver's `Retry-After` (429, 503) is honoured when it asks for longer.
 */
export function retryDelaySeconds(
  failures: number,
  delays: readonly number[],
  retryAfterSeconds?: number,
): number | undefined {
  const scheduled = delays[failures - 1];
  if (scheduled === undefined) return undefined;
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(scheduled, retryAfterSeconds ?? 0));
}
