/**
 * The `/remind` grammar (src/automation/remind-text.ts): what each form sets, read in the
 * caller's time zone, and a usage error, never an exception, for anything else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRemind, REMIND_USAGE } from "../../src/automation/remind-text.ts";

// Monday 30 November 2026, 10:00 UTC: 11:00 in Paris, 05:00 in New York.
const NOW = Date.parse("2026-11-30T10:00:00Z");
const PARIS = "Europe/Paris";
const when = (iso: string) => Date.parse(iso);

const created = (args: string, zone = PARIS, now = NOW) => {
  const parsed = parseRemind(args, now, zone);
  if (parsed.kind !== "create") throw new Error(`not created: ${JSON.stringify(parsed)}`);
  return parsed;
};
const problem = (args: string, zone = PARIS, now = NOW) => {
  const parsed = parseRemind(args, now, zone);
  if (parsed.kind !== "usage") throw new Error(`not a usage error: ${JSON.stringify(parsed)}`);
  return parsed.message;
};

describe("one-off reminders", () => {
  it.each([
    ["me in 2h to check the deploy", NOW + 2 * 3_600_000],
    ["me in 2 hours to check the deploy", NOW + 2 * 3_600_000],
    ["me in 30 minutes to check the deploy", NOW + 30 * 60_000],
    ["me in 30m to check the deploy", NOW + 30 * 60_000],
    ["me in 1 day to check the deploy", NOW + 86_400_000],
    ["me in an hour to check the deploy", NOW + 3_600_000],
    ["me in a week to check the deploy", NOW + 7 * 86_400_000],
    ["me in 2s to check the deploy", NOW + 2000],
    ["me in 45 secs check the deploy", NOW + 45_000],
    // 15:00 in Paris is still ahead today.
    ["me at 15:00 to check the deploy", when("2026-11-30T14:00Z")],
    ["me at 3pm to check the deploy", when("2026-11-30T14:00Z")],
    // 09:00 has passed today: tomorrow.
    ["me at 9:00 to check the deploy", when("2026-12-01T08:00Z")],
    ["me at 12am to check the deploy", when("2026-11-30T23:00Z")],
    ["me today at 17:30 to check the deploy", when("2026-11-30T16:30Z")],
    ["me tomorrow at 9:00 to check the deploy", when("2026-12-01T08:00Z")],
    ["me tomorrow to check the deploy", when("2026-12-01T08:00Z")],
    ["me on 2026-12-24 at 18:00 to check the deploy", when("2026-12-24T17:00Z")],
    ["me on 2026-12-24 to check the deploy", when("2026-12-24T08:00Z")],
    ["ME In 2H TO check the deploy", NOW + 2 * 3_600_000],
  ])("%s", (args, at) => {
    expect(created(args)).toEqual({
      kind: "create",
      reminder: { to: "me", text: "check the deploy", at },
      first: at,
    });
  });

  it("posts in the room with `here`, and keeps the text as written", () => {
    expect(created("here in 10m to   Stand-up: room 4  ").reminder).toEqual({
      to: "here",
      text: "Stand-up: room 4",
      at: NOW + 600_000,
    });
    // Only the first "to" is the grammar's.
    expect(created("me in 1h to go to the bank").reminder.text).toBe("go to the bank");
  });

  it("reads dates and times in the caller's zone, UTC without one", () => {
    expect(created("me at 15:00 x", "America/New_York").first).toBe(when("2026-11-30T20:00Z"));
    expect(parseRemind("me at 15:00 x", NOW)).toMatchObject({
      kind: "create",
      first: when("2026-11-30T15:00Z"),
    });
    // The day DST starts in Paris 02:30 does not exist: it moves on by the gap, to 03:30 CEST.
    expect(created("me on 2027-03-28 at 2:30 x").first).toBe(when("2027-03-28T01:30Z"));
    // "tomorrow" is the next calendar day there, 23 or 25 hours away around a change.
    const saturday = when("2026-10-24T10:00Z");
    expect(created("me tomorrow at 9:00 x", PARIS, saturday).first).toBe(when("2026-10-25T08:00Z"));
  });
});

describe("recurring reminders", () => {
  it.each([
    ["here every monday at 9:00 to plan the week", "0 9 * * 1", when("2026-12-07T08:00Z")],
    ["here every mon at 9:00 to plan the week", "0 9 * * 1", when("2026-12-07T08:00Z")],
    ["here every Mondays at 9 to plan the week", "0 9 * * 1", when("2026-12-07T08:00Z")],
    ["here every day at 9:00 to plan the week", "0 9 * * *", when("2026-12-01T08:00Z")],
    ["here every weekday at 9:30 to plan the week", "30 9 * * 1-5", when("2026-12-01T08:30Z")],
    ["here every weekend at 10am to plan the week", "0 10 * * 0,6", when("2026-12-05T09:00Z")],
    ["here every friday to plan the week", "0 9 * * 5", when("2026-12-04T08:00Z")],
    ["here every day at 15:00 to plan the week", "0 15 * * *", when("2026-11-30T14:00Z")],
  ])("%s", (args, cron, first) => {
    expect(created(args)).toEqual({
      kind: "create",
      reminder: { to: "here", text: "plan the week", cron, timeZone: PARIS },
      first,
    });
  });
});

describe("list and cancel", () => {
  it("reads them", () => {
    expect(parseRemind("list", NOW)).toEqual({ kind: "list" });
    expect(parseRemind("  LIST ", NOW)).toEqual({ kind: "list" });
    expect(parseRemind("cancel rem_0123456789abcdef", NOW)).toEqual({
      kind: "cancel",
      id: "rem_0123456789abcdef",
    });
  });

  it("refuses what they do not take", () => {
    expect(problem("list all")).toMatch(/takes nothing after it/);
    expect(problem("cancel")).toMatch(/name one reminder/);
    expect(problem("cancel 42")).toMatch(/rem_ and 16 hex/);
    expect(problem("cancel rem_0123456789abcdef rem_0123456789abcdee")).toMatch(/name one/);
  });
});

describe("usage errors", () => {
  it.each([
    ["", /say who and when/],
    ["help", /say who and when/],
    ["@bob in 2h to call", /start with me .* or here/],
    ["me to check the deploy", /say when/],
    ["me in 2 fortnights to x", /say when/],
    ["me in 0 minutes to x", /at least 1 second/],
    ["me in 400 days to x", /at most a year ahead/],
    ["me in 2h", /say what to remind of/],
    ["me in 2h to ", /say what to remind of/],
    ["me at 25:00 to x", /a time of day is/],
    ["me at 9:75 to x", /a time of day is/],
    ["me at 13pm to x", /a time of day is/],
    ["me today at 9:00 to x", /that time has passed/],
    ["me on 2026-02-30 to x", /one of the calendar/],
    ["me on 2025-12-24 to x", /that time has passed/],
    ["me on 2028-12-24 to x", /at most a year ahead/],
    ["here every fortnight to x", /every day, weekday, weekend/],
    [`me in 2h to ${"x".repeat(1001)}`, /at most 1000 characters/],
  ])("%s", (args, message) => {
    const text = problem(args);
    expect(text).toMatch(message);
    expect(text).toContain(`Usage: ${REMIND_USAGE}`);
  });

  it("says so when the caller's zone is unknown, and only when a time of day needs it", () => {
    expect(problem("me at 15:00 to x", "Mars/Olympus_Mons")).toMatch(
      /your time zone \(Mars\/Olympus_Mons\) is not known here/,
    );
    expect(created("me in 2h to x", "Mars/Olympus_Mons").first).toBe(NOW + 7_200_000);
  });
});

describe("never throws", () => {
  it("gives a request or a usage error for any text, clock and zone (fast-check)", () => {
    const words = fc.constantFrom(
      "me",
      "here",
      "in",
      "at",
      "on",
      "every",
      "to",
      "tomorrow",
      "today",
      "list",
      "cancel",
      "2h",
      "an",
      "hour",
      "15:00",
      "3pm",
      "2026-12-24",
      "monday",
      "weekday",
      "0",
      "99999999",
      "rem_0123456789abcdef",
      "",
      " ",
      "\u0000",
      "\ud800",
      "🎉",
    );
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(words, { maxLength: 10 }).map((w) => w.join(" ")),
    );
    const zone = fc.oneof(
      fc.constantFrom("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"),
      fc.string({ maxLength: 70 }),
    );
    const now = fc.oneof(
      fc.integer({ min: 0, max: 4e12 }),
      fc.constantFrom(-1, NaN, Infinity, 1e16),
    );
    fc.assert(
      fc.property(text, now, zone, (args, clock, timeZone) => {
        const parsed = parseRemind(args, clock, timeZone);
        expect(["create", "list", "cancel", "usage"]).toContain(parsed.kind);
        if (parsed.kind === "create") {
          expect(parsed.first).toBeGreaterThan(clock);
          expect(parsed.reminder.text.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
