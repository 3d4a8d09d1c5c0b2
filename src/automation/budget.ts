import { LIMITS_AUTOMATION } from "../protocol/automation.ts";

/** The budget's window: a sliding minute. */
export const BUDGET_WINDOW_MS = 60_000;

/**
 * The loop protection's second fence (docs/automation.md, "Loop protection"): every rule of a
 * room together takes at most `limit` actions in any sliding minute. A firing takes all its
 * actions or none, so that a rule never half-runs. One per room, in memory: losing it when the
 * room hibernates only forgives, as with the rate limits.
 */
export class ActionBudget {
  readonly limit: number;
  readonly windowMs: number;
  /** When each action still inside some window was taken, oldest first. */
  readonly #taken: number[] = [];

  constructor(limit: number = LIMITS_AUTOMATION.actionsPerMinute, windowMs = BUDGET_WINDOW_MS) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Actions still allowed at `at` (ms). */
  remaining(at: number): number {
    const since = at - this.windowMs;
    const inWindow = this.#taken.filter((taken) => taken > since && taken <= at).length;
    return Math.max(0, this.limit - inWindow);
  }

  /** Takes `count` actions at `at` if the minute up to `at` has room for all of them. */
  take(count: number, at: number): boolean {
    if (count <= 0) return true;
    if (this.remaining(at) < count) return false;
    for (let i = 0; i < count; i++) this.#taken.push(at);
    this.#taken.sort((a, b) => a - b);
    // Nothing older than a window before the newest action can count again.
    const keepAfter = this.#taken.at(-1)! - this.windowMs;
    while (this.#taken.length > 0 && this.#taken[0]! <= keepAfter) this.#taken.shift();
    return true;
  }
}
