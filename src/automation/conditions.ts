import type { Conditions, TimeWindow } from "../protocol/automation.ts";
import type { Role } from "../protocol/names.ts";
import { localAt } from "./zoned-time.ts";

/**
 * A rule's conditions (docs/automation.md, "Rules"): all that it names must hold. Pure: the time
 * is an argument, read on the wall clock of the window's own time zone.
 */

/** What the conditions are asked about: where, when, and who triggered the rule (if anyone). */
export type Situation = {
  room: string;
  /** ms since the epoch: the event's time, or the schedule's due time. */
  at: number;
  /** The triggering person's role in the room: undefined for non-members, guests and schedules. */
  role: Role | undefined;
};

export function conditionsHold(conditions: Conditions, situation: Situation): boolean {
  return (
    rolesHold(conditions.roles, situation.role) &&
    roomsHold(conditions.rooms, situation.room) &&
    (conditions.window === undefined || insideWindow(conditions.window, situation.at))
  );
}

/** The person's role is one of `roles`; nobody (no role) never is. */
export const rolesHold = (roles: readonly Role[] | undefined, role: Role | undefined): boolean =>
  roles === undefined || (role !== undefined && roles.includes(role));

export const roomsHold = (rooms: readonly string[] | undefined, room: string): boolean =>
  rooms === undefined || rooms.includes(room);

/** A day of the week (0 = Sunday) and the minute of that day, as a clock in some zone reads. */
export type WallClock = { day: number; minute: number };

/** What a wall clock in `timeZone` shows at `at` (ms): across DST changes, as people there read it. */
export function wallClock(at: number, timeZone: string): WallClock {
  const local = localAt(at, timeZone);
  return { day: local.weekday, minute: local.hour * 60 + local.minute };
}

/** `HH:MM` as minutes after midnight (24:00 is 1440). */
export const minutesOf = (clock: string): number =>
  Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * Whether `at` falls in the window: from `from` (included) to `to` (excluded), on its `days`.
 * A window whose `to` is before its `from` spans midnight, and belongs to the day it starts on:
 * Friday 22:00 to 06:00 holds on Saturday at 02:00. A window from a time to the same time is
 * empty (validate.ts says so before it is saved). On a day that skips an hour (DST), its times
 * never happen; on a day that repeats one, they happen twice.
 */
export function insideWindow(window: TimeWindow, at: number): boolean {
  const { day, minute } = wallClock(at, window.timeZone);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  const onDay = (d: number) => window.days === undefined || window.days.includes(d);
  if (from < to) return minute >= from && minute < to && onDay(day);
  if (from === to) return false;
  if (minute >= from) return onDay(day);
  return minute < to && onDay((day + 6) % 7);
}
