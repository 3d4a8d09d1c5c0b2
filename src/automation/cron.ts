import { Cron } from "croner";
import type { Trigger } from "../protocol/automation.ts";

/**
 * Times of schedules (docs/automation.md, "Schedules and reminders"): five-field cron expressions
 * read in an IANA time zone, by croner. Pure: no timers (a `Cron` made without a function never
 * starts one), the clock is always passed in.
 *
 * Daylight saving time, as croner does it (the unit tests pin it): a fixed time of day that a
 * spring-forward day skips (02:30 in Paris on the last Sunday of March) fires once, at the first
 * moment after the gap (03:00); one that a fall-back day repeats fires once, at its first
 * occurrence. Expressions with a step or a wildcard in the minutes or hours (`*\/30 * * * *`) skip
 * the times in a gap and fire on both occurrences of a repeated hour: they count elapsed time.
 */

/** The triggers that fire at times rather than on events. */
export type TimedTrigger = Extract<Trigger, { on: "schedule" } | { on: "time" }>;

/** At most this many times are computed in one call (a dry run shows a handful). */
export const MAX_NEXT_TIMES = 100;

/** The croner job of `expr` in `zone`, or why there is none. */
function cronOf(
  expr: string,
  zone: string,
): { ok: true; cron: Cron } | { ok: false; problem: string } {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5)
    return {
      ok: false,
      problem: `a cron expression has five fields (minute hour day-of-month month day-of-week), not ${fields.length}`,
    };
  try {
    // Day of month and day of week combine with OR, as in Vixie cron and crontab(5).
    return { ok: true, cron: new Cron(fields.join(" "), { timezone: zone, mode: "5-part" }) };
  } catch (error) {
    return { ok: false, problem: cleanMessage(error) };
  }
}

/** croner's message without its class-name prefix ("CronPattern: ..."). */
function cleanMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron\w*:\s*/, "");
}

/** Whether the runtime's Intl knows `zone`. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with the cron expression `expr` read in `zone`, or undefined when it is a
 * five-field expression that fires at least once more.
 * @example cronProblem("0 9 * * 1", "Europe/Paris") // undefined
 * @example cronProblem("0 25 * * *", "UTC") // "Invalid value for hour: 25"
 */
export function cronProblem(expr: string, zone: string): string | undefined {
  if (!isTimeZone(zone)) return `${zone.slice(0, 64)} is not a known IANA time zone`;
  const made = cronOf(expr, zone);
  if (!made.ok) return made.problem;
  try {
    if (made.cron.nextRun() === null) return "it never fires (no date matches it)";
  } catch (error) {
    return cleanMessage(error);
  }
  return undefined;
}

/**
 * The next `count` times (ms) a timed trigger fires strictly after `from` (ms): for `schedule`,
 * its cron expression in its zone; for `time`, its one time if it is still ahead. Empty when it
 * never fires again, or when the expression is not valid (ask `cronProblem` first).
 * @example nextTimes({ on: "schedule", cron: "0 9 * * 1", timeZone: "UTC" }, Date.parse("2026-11-30T09:00Z"), 1) // [Date.parse("2026-12-07T09:00Z")]
 */
export function nextTimes(trigger: TimedTrigger, from: number, count: number): number[] {
  const wanted = Math.max(0, Math.min(MAX_NEXT_TIMES, Math.floor(count)));
  if (wanted === 0) return [];
  if (trigger.on === "time") return trigger.at > from ? [trigger.at] : [];
  const made = cronOf(trigger.cron, trigger.timeZone);
  if (!made.ok || !isTimeZone(trigger.timeZone)) return [];
  try {
    return made.cron.nextRuns(wanted, new Date(from)).map((date) => date.getTime());
  } catch {
    return [];
  }
}

/** The next time `cron` fires in `zone` strictly after `from`, or undefined. */
export const nextCronTime = (cron: string, timeZone: string, from: number): number | undefined =>
  nextTimes({ on: "schedule", cron, timeZone }, from, 1)[0];
