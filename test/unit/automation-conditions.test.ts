import { describe, expect, it } from "vitest";
import { conditionsHold, insideWindow, wallClock } from "../../src/automation/conditions.ts";
import type { TimeWindow } from "../../src/protocol/automation.ts";

/** ms of a UTC time: `utc("2026-03-29T01:00")`. */
const utc = (iso: string) => Date.parse(`${iso}Z`);
const MINUTE = 60_000;

/** The minutes of [from, to) (UTC) at which the window holds. */
function minutesInside(window: TimeWindow, from: string, to: string): number {
  let count = 0;
  for (let at = utc(from); at < utc(to); at += MINUTE) if (insideWindow(window, at)) count++;
  return count;
}

describe("the wall clock of a zone", () => {
  it("reads the local day and minute on either side of a DST change", () => {
    // Paris, Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    expect(wallClock(utc("2026-03-29T00:59"), "Europe/Paris")).toEqual({
      day: 0,
      minute: 1 * 60 + 59,
    });
    expect(wallClock(utc("2026-03-29T01:00"), "Europe/Paris")).toEqual({ day: 0, minute: 3 * 60 });
    // New York, Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
    expect(wallClock(utc("2026-11-01T05:59"), "America/New_York")).toEqual({
      day: 0,
      minute: 1 * 60 + 59,
    });
    expect(wallClock(utc("2026-11-01T06:00"), "America/New_York")).toEqual({
      day: 0,
      minute: 1 * 60,
    });
    // Midnight is 0, never 24:00.
    expect(wallClock(utc("2026-01-01T00:00"), "UTC")).toEqual({ day: 4, minute: 0 });
  });
});

describe("a time window", () => {
  const office: TimeWindow = {
    days: [1, 2, 3, 4, 5],
    from: "09:00",
    to: "17:00",
    timeZone: "Europe/Paris",
  };

  it("follows the zone's wall clock in winter and in summer", () => {
    // Wednesday 14 January 2026, CET (UTC+1).
    expect(insideWindow(office, utc("2026-01-14T07:59"))).toBe(false);
    expect(insideWindow(office, utc("2026-01-14T08:00"))).toBe(true);
    expect(insideWindow(office, utc("2026-01-14T15:59"))).toBe(true);
    expect(insideWindow(office, utc("2026-01-14T16:00"))).toBe(false);
    // Wednesday 15 July 2026, CEST (UTC+2): the same local hours, an hour earlier in UTC.
    expect(insideWindow(office, utc("2026-07-15T06:59"))).toBe(false);
    expect(insideWindow(office, utc("2026-07-15T07:00"))).toBe(true);
    expect(insideWindow(office, utc("2026-07-15T14:59"))).toBe(true);
    expect(insideWindow(office, utc("2026-07-15T15:00"))).toBe(false);
    // Saturday is not one of its days.
    expect(insideWindow(office, utc("2026-07-18T10:00"))).toBe(false);
  });

  it("has no time in the hour a spring-forward day skips, and an hour less that day", () => {
    const skipped: TimeWindow = { from: "02:00", to: "03:00", timeZone: "Europe/Paris" };
    expect(minutesInside(skipped, "2026-03-28T23:00", "2026-03-29T23:00")).toBe(0);
    const night: TimeWindow = { from: "01:30", to: "03:30", timeZone: "Europe/Paris" };
    // 01:30 to 02:00 CET, then 03:00 to 03:30 CEST: an hour, not two.
    expect(minutesInside(night, "2026-03-28T23:00", "2026-03-29T23:00")).toBe(60);
    expect(insideWindow(night, utc("2026-03-29T00:59"))).toBe(true);
    expect(insideWindow(night, utc("2026-03-29T01:00"))).toBe(true);
    expect(insideWindow(night, utc("2026-03-29T01:30"))).toBe(false);
  });

  it("holds twice in the hour a fall-back day repeats", () => {
    const repeated: TimeWindow = { from: "02:00", to: "03:00", timeZone: "Europe/Paris" };
    // Sunday 25 October 2026: 02:00-03:00 CEST (00:00-01:00 UTC), then again in CET (01:00-02:00 UTC).
    expect(minutesInside(repeated, "2026-10-24T22:00", "2026-10-25T22:00")).toBe(120);
    expect(insideWindow(repeated, utc("2026-10-25T00:00"))).toBe(true);
    expect(insideWindow(repeated, utc("2026-10-25T01:59"))).toBe(true);
    expect(insideWindow(repeated, utc("2026-10-25T02:00"))).toBe(false);
  });

  it("spans midnight when `to` is before `from`, on the day it starts", () => {
    const fridayNight: TimeWindow = {
      days: [5],
      from: "22:00",
      to: "06:00",
      timeZone: "America/New_York",
    };
    // Friday 16 January 2026, EST (UTC-5).
    expect(insideWindow(fridayNight, utc("2026-01-17T02:59"))).toBe(false); // Fri 21:59
    expect(insideWindow(fridayNight, utc("2026-01-17T03:00"))).toBe(true); // Fri 22:00
    expect(insideWindow(fridayNight, utc("2026-01-17T07:00"))).toBe(true); // Sat 02:00
    expect(insideWindow(fridayNight, utc("2026-01-17T10:59"))).toBe(true); // Sat 05:59
    expect(insideWindow(fridayNight, utc("2026-01-17T11:00"))).toBe(false); // Sat 06:00
    expect(insideWindow(fridayNight, utc("2026-01-18T03:30"))).toBe(false); // Sat 22:30
    expect(insideWindow(fridayNight, utc("2026-01-16T10:00"))).toBe(false); // Fri 05:00: Thursday's night
    // 8 hours each Friday night of the week.
    expect(minutesInside(fridayNight, "2026-01-12T05:00", "2026-01-19T05:00")).toBe(8 * 60);
  });

  it("spans a spring-forward midnight: the night is an hour shorter", () => {
    // The night of Saturday 7 March 2026 in New York; at 02:00 EST (07:00 UTC) clocks go to 03:00 EDT.
    const saturdayNight: TimeWindow = {
      days: [6],
      from: "22:00",
      to: "06:00",
      timeZone: "America/New_York",
    };
    expect(insideWindow(saturdayNight, utc("2026-03-08T06:59"))).toBe(true); // Sun 01:59 EST
    expect(insideWindow(saturdayNight, utc("2026-03-08T07:00"))).toBe(true); // Sun 03:00 EDT
    expect(insideWindow(saturdayNight, utc("2026-03-08T09:59"))).toBe(true); // Sun 05:59 EDT
    expect(insideWindow(saturdayNight, utc("2026-03-08T10:00"))).toBe(false); // Sun 06:00 EDT
    expect(minutesInside(saturdayNight, "2026-03-07T12:00", "2026-03-08T18:00")).toBe(7 * 60);
  });

  it("runs to 24:00, and is empty from a time to the same time", () => {
    const evening: TimeWindow = { from: "18:00", to: "24:00", timeZone: "UTC" };
    expect(insideWindow(evening, utc("2026-05-05T23:59"))).toBe(true);
    expect(insideWindow(evening, utc("2026-05-06T00:00"))).toBe(false);
    expect(minutesInside(evening, "2026-05-05T00:00", "2026-05-06T00:00")).toBe(6 * 60);
    const whole: TimeWindow = { from: "00:00", to: "24:00", timeZone: "Asia/Kolkata" };
    expect(minutesInside(whole, "2026-05-05T00:00", "2026-05-06T00:00")).toBe(24 * 60);
    const empty: TimeWindow = { from: "09:00", to: "09:00", timeZone: "UTC" };
    expect(minutesInside(empty, "2026-05-05T00:00", "2026-05-06T00:00")).toBe(0);
  });
});

describe("conditions together", () => {
  const at = utc("2026-01-14T10:00");

  it("hold when every one named holds", () => {
    expect(conditionsHold({}, { room: "ops", at, role: undefined })).toBe(true);
    const roles = { roles: ["moderator", "owner"] as ("moderator" | "owner")[] };
    expect(conditionsHold(roles, { room: "ops", at, role: "moderator" })).toBe(true);
    expect(conditionsHold(roles, { room: "ops", at, role: "member" })).toBe(false);
    // Guests, non-members and schedules have no role: a role condition never holds for them.
    expect(conditionsHold(roles, { room: "ops", at, role: undefined })).toBe(false);
    expect(conditionsHold({ rooms: ["ops", "dev"] }, { room: "dev", at, role: undefined })).toBe(
      true,
    );
    expect(conditionsHold({ rooms: ["ops"] }, { room: "dev", at, role: undefined })).toBe(false);
    const window: TimeWindow = { from: "09:00", to: "10:00", timeZone: "UTC" };
    expect(conditionsHold({ rooms: ["ops"], window }, { room: "ops", at, role: undefined })).toBe(
      false,
    );
    expect(
      conditionsHold({ rooms: ["ops"], window }, { room: "ops", at: at - MINUTE, role: undefined }),
    ).toBe(true);
  });
});
