import { retryDelaySeconds } from "./retry-schedule.ts";

/**
 * What one try of a webhook delivery leads to (docs/integrations.md), as pure rules: a 2xx is
 * delivered; 410 Gone disables the endpoint and ends the delivery; anything else is a failure,
 * retried on the schedule until it is spent, then dead-lettered.
 */

/** Failed tries in a row an endpoint must have, at the least, before it is disabled for failing. */
export const DISABLE_MIN_FAILURES = 5;

export type TryResult = { status: number | null; retryAfterSeconds?: number | undefined };

export type Verdict =
  | { kind: "delivered" }
  | { kind: "gone" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "dead" };

/** The verdict on the `tryNumber`-th try (1 for the first) of one queue message. */
export function judgeTry(result: TryResult, tryNumber: number, delays: readonly number[]): Verdict {
  if (result.status !== null && result.status >= 200 && result.status < 300)
    return { kind: "delivered" };
  if (result.status === 410) return { kind: "gone" };
  const delaySeconds = retryDelaySeconds(tryNumber, delays, result.retryAfterSeconds);
  return delaySeconds === undefined ? { kind: "dead" } : { kind: "retry", delaySeconds };
}

/**
 * Whether an endpoint failing since `failingSince` (its first failed try after its last success)
 * with `failuresInARow` failed tries is to be disabled now: Svix's rule, every try failing for a
 * long time (5 days by default), and at least a few tries so that one failure never disables it.
 */
export function failingTooLong(
  failuresInARow: number,
  failingSince: number | null,
  now: number,
  disableAfterMs: number,
): boolean {
  return (
    failingSince !== null &&
    failuresInARow >= DISABLE_MIN_FAILURES &&
    now - failingSince >= disableAfterMs
  );
}
