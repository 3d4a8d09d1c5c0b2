import { ReminderId } from "../protocol/automation.ts";
import { REMINDER_HORIZON_MS, ReminderText, type NewReminder } from "../protocol/reminders.ts";
import { isTimeZone, nextCronTime } from "./cron.ts";
import { addDays, instantIn, isDate, localAt, type LocalTime } from "./zoned-time.ts";

/**
 * The `/remind` grammar (docs/automation.md, "Schedules and reminders"), Slack-like:
 *
 *   /remind me|here <when> [to] <what>
 *   /remind list
 *   /remind cancel <id>
 *
 * where <when> is one of
 *   in 2h · in 2 hours · in 30 minutes · in 1 day · in an hour   (s, m, h, d, w and their words)
 *   at 15:00 · at 3pm                     (the next 15:00: today, or tomorrow once it passed)
 *   today at 17:00 · tomorrow [at 9:00]   (a day without a time means 09:00)
 *   on 2026-12-24 [at 18:00]
 *   every day|weekday|weekend|monday…sunday [at 9:30]   (recurring: a cron expression)
 *
 * Dates and times of day are read in the caller's time zone (the composer sends the browser's;
 * UTC without one). Pure: any text gives a request or a usage error; nothing here throws.
 */

/** What a reminder is, as `/remind` makes it: POST /reminders takes the same fields. */
export type ParsedReminder = Omit<NewReminder, "clientId">;

export type RemindRequest =
  /** `first`: when it fires first (ms). */
  | { kind: "create"; reminder: ParsedReminder; first: number }
  | { kind: "list" }
  | { kind: "cancel"; id: string }
  | { kind: "usage"; message: string };

export const REMIND_USAGE =
  "/remind me|here <when> [to] <what>, /remind list, /remind cancel <id>. " +
  "<when>: in 2h, in 30 minutes, at 15:00, tomorrow at 9:00, on 2026-12-24 at 18:00, " +
  "every weekday at 9:30";

const DEFAULT_TIME: LocalTime = { hour: 9, minute: 0 };

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `seconds` → s, `hrs` → h, `wk` → w: the first letter names the unit. */
const UNIT = "seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w";
/** `15:00`, `9`, `9:30`, `3pm`, `3:15 pm`. */
const TIME = "(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm)?";
const END = "(?=\\s|$)";

const IN = new RegExp(`^in\\s+(\\d{1,7}|an?)\\s*(${UNIT})${END}`, "i");
const AT = new RegExp(`^at\\s+${TIME}${END}`, "i");
const DAY = new RegExp(`^(today|tomorrow)(?:\\s+at\\s+${TIME})?${END}`, "i");
const ON = new RegExp(`^on\\s+(\\d{4})-(\\d{1,2})-(\\d{1,2})(?:\\s+at\\s+${TIME})?${END}`, "i");
const EVERY = new RegExp(`^every\\s+([a-z]+)(?:\\s+at\\s+${TIME})?${END}`, "i");

/** Day names (and their first three letters, and plurals) → cron's day-of-week field. */
const DAYS: Record<string, string> = {
  day: "*",
  weekday: "1-5",
  weekend: "0,6",
  sunday: "0",
  monday: "1",
  tuesday: "2",
  wednesday: "3",
  thursday: "4",
  friday: "5",
  saturday: "6",
};

const WEEK = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function dayField(word: string): string | undefined {
  const name = word.toLowerCase().replace(/s$/, "");
  if (Object.hasOwn(DAYS, name)) return DAYS[name];
  // mon, tue, wed, thu, fri, sat, sun
  const index = name.length === 3 ? WEEK.findIndex((day) => day.startsWith(name)) : -1;
  return index < 0 ? undefined : String(index);
}

const usage = (message: string): RemindRequest => ({
  kind: "usage",
  message: `${message}. Usage: ${REMIND_USAGE}`,
});

/** What `when` matched: the time it fires first and, for recurring ones, its cron. */
type When =
  { ok: true; length: number; at: number; cron?: string } | { ok: false; message: string };

/**
 * The request in `args` (what follows `/remind `), at `now` (ms) for a caller in `timeZone`.
 * @example parseRemind("me in 2h to check the deploy", now, "UTC") // { kind: "create", reminder: { to: "me", text: "check the deploy", at: now + 7_200_000 }, first: … }
 */
export function parseRemind(args: string, now: number, timeZone = "UTC"): RemindRequest {
  const text = args.trim();
  const [first = "", ...rest] = text.split(/\s+/);
  const word = first.toLowerCase();
  if (word === "" || word === "help") return usage("say who and when");
  if (word === "list")
    return rest.length === 0 ? { kind: "list" } : usage("/remind list takes nothing after it");
  if (word === "cancel") {
    const id = ReminderId.safeParse(rest[0]);
    if (rest.length !== 1 || !id.success)
      return usage(
        "name one reminder to cancel by its id, rem_ and 16 hex (/remind list shows them)",
      );
    return { kind: "cancel", id: id.data };
  }
  if (word !== "me" && word !== "here")
    return usage("start with me (a reminder for you alone) or here (posted in the room)");
  if (!Number.isSafeInteger(now) || now < 0 || now > 8e15) return usage("the clock is off");
  const afterWho = text.slice(first.length).trimStart();
  const when = readWhen(afterWho, now, timeZone);
  if (!when.ok) return usage(when.message);
  const what = afterWho
    .slice(when.length)
    .trimStart()
    .replace(/^to(?:\s+|$)/i, "")
    .trim();
  if (what === "") return usage("say what to remind of, after the time");
  const checked = ReminderText.safeParse(what);
  if (!checked.success) return usage(checked.error.issues[0]!.message);
  const reminder: ParsedReminder =
    when.cron === undefined
      ? { to: word, text: checked.data, at: when.at }
      : { to: word, text: checked.data, cron: when.cron, timeZone };
  return { kind: "create", reminder, first: when.at };
}

function readWhen(text: string, now: number, zone: string): When {
  const inMatch = IN.exec(text);
  if (inMatch) return inDuration(inMatch, now);
  const needsZone = [AT, DAY, ON, EVERY].some((pattern) => pattern.test(text));
  if (needsZone && !isTimeZone(zone))
    return { ok: false, message: `your time zone (${zone.slice(0, 64)}) is not known here` };
  const atMatch = AT.exec(text);
  if (atMatch) return atTime(atMatch, atMatch.slice(1, 4), now, zone);
  const dayMatch = DAY.exec(text);
  if (dayMatch) return onDay(dayMatch, dayMatch[1]!.toLowerCase(), dayMatch.slice(2, 5), now, zone);
  const onMatch = ON.exec(text);
  if (onMatch) return onDate(onMatch, now, zone);
  const everyMatch = EVERY.exec(text);
  if (everyMatch) return every(everyMatch, now, zone);
  return {
    ok: false,
    message: "say when: in 2h, at 15:00, tomorrow at 9:00, on 2026-12-24, every monday at 9:00",
  };
}

function inDuration(match: RegExpExecArray, now: number): When {
  const amount = /^an?$/i.test(match[1]!) ? 1 : Number(match[1]);
  const ms = amount * UNIT_MS[match[2]![0]!.toLowerCase()]!;
  if (amount < 1) return { ok: false, message: "a reminder is for later: in at least 1 second" };
  return ahead(match[0].length, now + ms, now);
}

/** Hours and minutes from `15`, `30`, `pm`; undefined when it is no time of day. */
function timeOf([hours, minutes, half]: (string | undefined)[]): LocalTime | undefined {
  if (hours === undefined) return undefined;
  let hour = Number(hours);
  const minute = minutes === undefined ? 0 : Number(minutes);
  if (minute > 59) return undefined;
  if (half !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half.toLowerCase() === "pm" ? 12 : 0);
  }
  return hour <= 23 ? { hour, minute } : undefined;
}

const NOT_A_TIME = "a time of day is 0:00 to 23:59, or 1am to 12pm";

/** `at 15:00`: the next 15:00 in the zone, today or tomorrow. */
function atTime(
  match: RegExpExecArray,
  parts: (string | undefined)[],
  now: number,
  zone: string,
): When {
  const time = timeOf(parts);
  if (!time) return { ok: false, message: NOT_A_TIME };
  const at = nextCronTime(`${time.minute} ${time.hour} * * *`, zone, now);
  return at === undefined ? { ok: false, message: NOT_A_TIME } : ahead(match[0].length, at, now);
}

function onDay(
  match: RegExpExecArray,
  day: string,
  parts: (string | undefined)[],
  now: number,
  zone: string,
): When {
  const time = parts[0] === undefined ? DEFAULT_TIME : timeOf(parts);
  if (!time) return { ok: false, message: NOT_A_TIME };
  const today = localAt(now, zone);
  const date = day === "tomorrow" ? addDays(today, 1) : today;
  return ahead(match[0].length, instantIn(date, time, zone), now);
}

function onDate(match: RegExpExecArray, now: number, zone: string): When {
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (!isDate(date)) return { ok: false, message: "a date is YYYY-MM-DD, one of the calendar" };
  const time = match[4] === undefined ? DEFAULT_TIME : timeOf(match.slice(4, 7));
  if (!time) return { ok: false, message: NOT_A_TIME };
  return ahead(match[0].length, instantIn(date, time, zone), now);
}

function every(match: RegExpExecArray, now: number, zone: string): When {
  const days = dayField(match[1]!);
  if (days === undefined)
    return { ok: false, message: "every day, weekday, weekend, or a day's name (monday…sunday)" };
  const time = match[2] === undefined ? DEFAULT_TIME : timeOf(match.slice(2, 5));
  if (!time) return { ok: false, message: NOT_A_TIME };
  const cron = `${time.minute} ${time.hour} * * ${days}`;
  const at = nextCronTime(cron, zone, now);
  if (at === undefined) return { ok: false, message: "that never comes" };
  return { ok: true, length: match[0].length, at, cron };
}

/** A one-off time, if it is ahead and within the horizon. */
function ahead(length: number, at: number, now: number): When {
  if (!Number.isFinite(at) || at <= now) return { ok: false, message: "that time has passed" };
  if (at - now > REMINDER_HORIZON_MS) return { ok: false, message: "at most a year ahead" };
  return { ok: true, length, at };
}
