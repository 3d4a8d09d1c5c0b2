import { CronDate } from "croner";

/**
 * Wall-clock times in an IANA time zone, both ways: what date and time an instant is there, and
 * which instant a date and time there is. Pure; Intl reads the zone's rules, croner's CronDate
 * turns a local time into an instant (a time a spring-forward day skips moves on by the gap,
 * 02:30 → 03:30; a time a fall-back day repeats is its first occurrence).
 */

export type LocalDate = { year: number; month: number; day: number };
export type LocalTime = { hour: number; minute: number };
export type LocalDateTime = LocalDate & LocalTime & { weekday: number };

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const formats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formats.set(zone, format);
  }
  return format;
}

/** The date, time and weekday (0 = Sunday) that instant `ms` is in `zone`. */
export function localAt(ms: number, zone: string): LocalDateTime {
  const parts = Object.fromEntries(
    partsFormat(zone)
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ""),
  };
}

/** Whether year-month-day is a date of the calendar (no 31 April, 29 February only in leap years). */
export function isDate({ year, month, day }: LocalDate): boolean {
  if (!Number.isInteger(year) || year < 1970 || year > 9999) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The date `days` after `date` (calendar days, whatever the zone's clock changes). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The instant (ms) that `date` at `time` is in `zone`. */
export function instantIn(date: LocalDate, time: LocalTime, zone: string): number {
  const local = `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}T${pad(time.hour)}:${pad(time.minute)}:00`;
  return new CronDate(local, zone).getTime();
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * `ms` as people read it in `zone`: `Mon 7 Dec 2026, 09:00 (Europe/Paris)`. Put together from
 * the numeric parts, so that it reads the same whatever the runtime's locale data.
 * @example describeTime(Date.parse("2026-12-07T08:00Z"), "Europe/Paris") // "Mon 7 Dec 2026, 09:00 (Europe/Paris)"
 */
export function describeTime(ms: number, zone: string): string {
  const t = localAt(ms, zone);
  const date = `${WEEKDAYS[t.weekday]} ${t.day} ${MONTHS[t.month - 1]} ${t.year}`;
  return `${date}, ${pad(t.hour)}:${pad(t.minute)} (${zone})`;
}
