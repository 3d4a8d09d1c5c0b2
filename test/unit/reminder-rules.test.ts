/**
 * The rules of reminders (src/automation/reminder-rules.ts): the first and next firings, who sees
 * and cancels which, and what they say.
 */
import { describe, expect, it } from "vitest";
import {
  cancellableBy,
  confirmation,
  ephemeralText,
  firstFiring,
  nextFiring,
  postedText,
  recurrenceText,
  reminderLine,
  visibleTo,
} from "../../src/automation/reminder-rules.ts";
import type { Reminder } from "../../src/protocol/automation.ts";

const NOW = Date.parse("2026-11-30T10:00:00Z");
const ada = { id: "u-ada", name: "ada" };

const reminder = (over: Partial<Reminder> = {}): Reminder => ({
  id: "rem_0123456789abcdef",
  to: "me",
  text: "check the deploy",
  at: NOW + 3_600_000,
  by: ada,
  createdAt: NOW,
  ...over,
});

describe("firstFiring", () => {
  it("takes a one-off time ahead and within a year", () => {
    expect(firstFiring({ at: NOW + 1 }, NOW)).toEqual({ ok: true, at: NOW + 1 });
    expect(firstFiring({ at: NOW }, NOW)).toEqual({ ok: false, message: "that time has passed" });
    expect(firstFiring({ at: NOW + 367 * 86_400_000 }, NOW)).toEqual({
      ok: false,
      message: "at most a year ahead",
    });
  });

  it("takes a valid cron in its zone (UTC by default) that fires at most once an hour", () => {
    expect(firstFiring({ cron: "0 9 * * 1", timeZone: "Europe/Paris" }, NOW)).toEqual({
      ok: true,
      at: Date.parse("2026-12-07T08:00Z"),
    });
    expect(firstFiring({ cron: "0 9 * * 1" }, NOW)).toEqual({
      ok: true,
      at: Date.parse("2026-12-07T09:00Z"),
    });
    expect(firstFiring({ cron: "0 * * * *" }, NOW)).toMatchObject({ ok: true });
    expect(firstFiring({ cron: "*/30 * * * *" }, NOW)).toEqual({
      ok: false,
      message: "a recurring reminder fires at most once an hour",
    });
    expect(firstFiring({ cron: "0,5 9 * * *" }, NOW)).toMatchObject({ ok: false });
    expect(firstFiring({ cron: "0 9 * *" }, NOW)).toEqual({
      ok: false,
      message: expect.stringMatching(/^cron: a cron expression has five fields/),
    });
    expect(firstFiring({ cron: "0 9 29 2 *" }, Date.parse("2028-03-01T00:00Z"))).toEqual({
      ok: false,
      message: "it first fires more than a year ahead",
    });
  });
});

describe("nextFiring", () => {
  it("drops a one-off reminder, moves a recurring one past both its time and now", () => {
    expect(nextFiring(reminder(), NOW)).toBeUndefined();
    const weekly = {
      at: Date.parse("2026-11-30T08:00Z"),
      cron: "0 9 * * 1",
      timeZone: "Europe/Paris",
    };
    expect(nextFiring(weekly, weekly.at)).toBe(Date.parse("2026-12-07T08:00Z"));
    // Down for three weeks: one firing stands for the missed ones, then the next to come.
    expect(nextFiring(weekly, Date.parse("2026-12-22T12:00Z"))).toBe(
      Date.parse("2026-12-28T08:00Z"),
    );
  });
});

describe("who sees and cancels", () => {
  it("shows a reminder to its author, and `here` ones to moderators too", () => {
    expect(visibleTo(reminder(), ada.id, false)).toBe(true);
    expect(visibleTo(reminder(), "u-bob", false)).toBe(false);
    expect(visibleTo(reminder(), "u-bob", true)).toBe(false);
    expect(visibleTo(reminder({ to: "here" }), "u-bob", false)).toBe(false);
    expect(visibleTo(reminder({ to: "here" }), "u-bob", true)).toBe(true);
    expect(cancellableBy).toBe(visibleTo);
  });
});

describe("texts", () => {
  it("says who set a posted reminder, and how many a pending one stands for", () => {
    expect(postedText(reminder())).toBe("⏰ Reminder from ada: check the deploy");
    expect(ephemeralText(reminder())).toBe("⏰ Reminder: check the deploy");
    expect(ephemeralText(reminder(), 3)).toBe(
      "⏰ Reminder: check the deploy (3 times while you were away)",
    );
  });

  it("reads back the schedules /remind makes, and shows any other cron as it is", () => {
    expect(recurrenceText("0 9 * * 1", "Europe/Paris")).toBe(
      "every monday at 09:00 (Europe/Paris)",
    );
    expect(recurrenceText("30 9 * * 1-5", "UTC")).toBe("every weekday at 09:30 (UTC)");
    expect(recurrenceText("0 10 * * 0,6", "UTC")).toBe("every weekend at 10:00 (UTC)");
    expect(recurrenceText("5 17 * * *", "UTC")).toBe("every day at 17:05 (UTC)");
    expect(recurrenceText("0 9 1 * *", "UTC")).toBe("cron 0 9 1 * * (UTC)");
  });

  it("lists and confirms in the reader's zone", () => {
    const once = reminder({ at: Date.parse("2026-12-24T17:00Z") });
    expect(reminderLine(once, "Europe/Paris")).toBe(
      "rem_0123456789abcdef · you · Thu 24 Dec 2026, 18:00 (Europe/Paris) · check the deploy",
    );
    const weekly = reminder({
      to: "here",
      at: Date.parse("2026-12-07T08:00Z"),
      cron: "0 9 * * 1",
      timeZone: "Europe/Paris",
    });
    expect(reminderLine(weekly, "America/New_York")).toBe(
      "rem_0123456789abcdef · here, by ada · every monday at 09:00 (Europe/Paris), next Mon 7 Dec 2026, 03:00 (America/New_York) · check the deploy",
    );
    expect(confirmation(once, "UTC")).toBe(
      "I will remind you on Thu 24 Dec 2026, 17:00 (UTC): check the deploy (rem_0123456789abcdef; /remind cancel rem_0123456789abcdef to drop it)",
    );
    expect(confirmation(weekly, "Europe/Paris")).toMatch(
      /^I will remind the room every monday at 09:00 \(Europe\/Paris\), first on Mon 7 Dec 2026, 09:00/,
    );
  });
});
