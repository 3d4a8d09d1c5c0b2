import { errorFields, log } from "../telemetry/log.ts";

/**
 * One thing due at a time. `fire` makes it happen and, in the same step, moves it on (a recurring
 * one to its next time) or removes it, so that it is no longer due; it may run again after a
 * crash before that step (alarms are delivered at least once), so it must be idempotent.
 */
export type Firing = { at: number; fire: () => Promise<void> | void };

/** A kind of timed thing in the room: reminders now, rules with schedule or time triggers later. */
export interface ClockSource {
  readonly name: string;
  /** What is due at or before `now`, at most `limit` of it, earliest first. */
  due(now: number, limit: number): Firing[];
  /** When the earliest of its things is due, or undefined when it has none. */
  next(): number | undefined;
}

/** Firings one alarm runs at most; the rest follow at once in the next alarm. */
const FIRINGS_PER_TICK = 50;
/** After a firing threw, the clock comes back no sooner than this. */
export const CLOCK_RETRY_MS = 5000;

/**
 * The room's clock (docs/automation.md, "Schedules and reminders"): on the schedule's `clock`
 * task, it asks every source what is due up to now, fires it, and points the task at the earliest
 * next time any source has. The times live in the sources' tables, so the clock itself keeps
 * nothing: after a restart or a deploy, `wake` finds the earliest time again.
 */
export class Clock {
  readonly #sources: ClockSource[];
  readonly #at: (due: number) => void;
  readonly #scheduled: () => number | undefined;

  /**
   * `at` puts the `clock` task on the schedule at a time (or earlier, if it is there earlier);
   * `scheduled` says when it is there now.
   */
  constructor(
    sources: ClockSource[],
    at: (due: number) => void,
    scheduled: () => number | undefined,
  ) {
    this.#sources = [...sources];
    this.#at = at;
    this.#scheduled = scheduled;
  }

  /** Another source, such as the room's timed rules. */
  add(source: ClockSource): void {
    this.#sources.push(source);
    this.changed();
  }

  /** A source's times changed (one added, say): the alarm comes no later than the earliest. */
  changed(): void {
    const next = this.next();
    if (next !== undefined) this.#at(next);
  }

  /**
   * At start, reads only: the task is put back when something is due before it (a crash between
   * taking it off the schedule and putting it back, or times written by an older deploy).
   */
  wake(): void {
    const next = this.next();
    const scheduled = this.#scheduled();
    if (next !== undefined && (scheduled === undefined || scheduled > next)) this.#at(next);
  }

  /** The earliest time any source has something due. */
  next(): number | undefined {
    let earliest: number | undefined;
    for (const source of this.#sources) {
      const at = source.next();
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** The alarm: fires what is due, one at a time in time order, then sets the next alarm. */
  async tick(now: number): Promise<void> {
    const firings = this.#sources
      .flatMap((source) => source.due(now, FIRINGS_PER_TICK))
      .sort((a, b) => a.at - b.at)
      .slice(0, FIRINGS_PER_TICK);
    let failed = false;
    try {
      for (const firing of firings) {
        try {
          await firing.fire();
        } catch (error) {
          // Left due by its source: it is tried again on the next tick, the others go on.
          failed = true;
          log.error("clock firing failed", { error: errorFields(error) });
        }
      }
    } finally {
      const next = this.next();
      if (next !== undefined) this.#at(failed ? Math.max(next, now + CLOCK_RETRY_MS) : next);
    }
  }
}
