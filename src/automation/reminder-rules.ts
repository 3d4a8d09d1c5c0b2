import type { Reminder } from "../protocol/automation.ts";
import {
  REMINDER_HORIZON_MS,
  REMINDER_MIN_INTERVAL_MS,
  type NewReminder,
} from "../protocol/reminders.ts";
import { cronProblem, nextCronTime, nextTimes } from "./cron.ts";
import { describeTime } from "./zoned-time.ts";

/**
 * The rules of reminders (docs/automation.md, "Schedules and reminders"), pure: when a new one
 * first fires, where a fired one goes next, who sees and cancels which, and what they say.
 */

/** How many coming firings of a recurring reminder are checked against the least interval. */
const INTERVAL_SAMPLE = 24;

/**
 * When a new reminder first fires (ms), or why it cannot be: a one-off time must be ahead and
 * within a year; a recurring one must be valid in its zone and fire at most once an hour.
 */
export function firstFiring(
  input: Pick<NewReminder, "at" | "cron" | "timeZone">,
  now: number,
): { ok: true; at: number } | { ok: false; message: string } {
  if (input.cron === undefined) {
    const at = input.at ?? 0;
    if (at <= now) return { ok: false, message: "that time has passed" };
    if (at - now > REMINDER_HORIZON_MS) return { ok: false, message: "at most a year ahead" };
    return { ok: true, at };
  }
  const zone = input.timeZone ?? "UTC";
  const problem = cronProblem(input.cron, zone);
  if (problem) return { ok: false, message: `cron: ${problem}` };
  const times = nextTimes(
    { on: "schedule", cron: input.cron, timeZone: zone },
    now,
    INTERVAL_SAMPLE,
  );
  const tooClose = times.slice(1).some((time, i) => time - times[i]! < REMINDER_MIN_INTERVAL_MS);
  if (tooClose) return { ok: false, message: "a recurring reminder fires at most once an hour" };
  const at = times[0]!;
  if (at - now > REMINDER_HORIZON_MS)
    return { ok: false, message: "it first fires more than a year ahead" };
  return { ok: true, at };
}

/**
 * Where a reminder that fired (or was due) at `reminder.at` goes at `now`: a recurring one to its
 * first time after both (the times it missed while the room was down are not fired again, one
 * firing stands for them); a one-off one, or a schedule that never comes again, nowhere.
 */
export function nextFiring(reminder: Pick<Reminder, "at" | "cron" | "timeZone">, now: number) {
  if (reminder.cron === undefined) return undefined;
  return nextCronTime(reminder.cron, reminder.timeZone ?? "UTC", Math.max(now, reminder.at));
}

/** Whose reminders someone sees: their own, and the room's `here` ones for its moderators. */
export const visibleTo = (reminder: Reminder, userId: string, moderates: boolean): boolean =>
  reminder.by.id === userId || (moderates && reminder.to === "here");

/** Who may cancel: the same people (a `me` reminder stays its author's alone). */
export const cancellableBy = visibleTo;

/** The message a `here` reminder posts as the Reminders bot. */
export const postedText = (reminder: Pick<Reminder, "text" | "by">): string =>
  `⏰ Reminder from ${reminder.by.name}: ${reminder.text}`;

/** The ephemeral text a `me` reminder sends its author; `missed` firings while they were away. */
export const ephemeralText = (reminder: Pick<Reminder, "text">, missed = 1): string =>
  `⏰ Reminder: ${reminder.text}${missed > 1 ? ` (${missed} times while you were away)` : ""}`;

const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const DAY_WORDS: Record<string, string> = { "*": "day", "1-5": "weekday", "0,6": "weekend" };

/**
 * A recurring reminder's schedule in words when `/remind` made it (`every monday at 09:00`),
 * else its cron expression.
 */
export function recurrenceText(cron: string, timeZone: string): string {
  const made = /^(\d{1,2}) (\d{1,2}) \* \* (\*|1-5|0,6|[0-6])$/.exec(cron);
  if (!made) return `cron ${cron} (${timeZone})`;
  const days = DAY_WORDS[made[3]!] ?? DAY_NAMES[Number(made[3])];
  const time = `${made[2]!.padStart(2, "0")}:${made[1]!.padStart(2, "0")}`;
  return `every ${days} at ${time} (${timeZone})`;
}

/** One line of `/remind list`: id, who it is for, when, what. Times in the reader's zone. */
export function reminderLine(reminder: Reminder, zone: string): string {
  const who = reminder.to === "me" ? "you" : `here, by ${reminder.by.name}`;
  const when =
    reminder.cron === undefined
      ? describeTime(reminder.at, zone)
      : `${recurrenceText(reminder.cron, reminder.timeZone ?? "UTC")}, next ${describeTime(reminder.at, zone)}`;
  return `${reminder.id} · ${who} · ${when} · ${reminder.text}`;
}

/** The answer to `/remind …` once it is set. */
export function confirmation(reminder: Reminder, zone: string): string {
  const who = reminder.to === "me" ? "I will remind you" : "I will remind the room";
  const when =
    reminder.cron === undefined
      ? `on ${describeTime(reminder.at, zone)}`
      : `${recurrenceText(reminder.cron, reminder.timeZone ?? "UTC")}, first on ${describeTime(reminder.at, zone)}`;
  return `${who} ${when}: ${reminder.text} (${reminder.id}; /remind cancel ${reminder.id} to drop it)`;
}
