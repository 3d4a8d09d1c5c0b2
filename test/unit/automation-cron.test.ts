/**
 * The cron rules of schedules (src/automation/cron.ts), on croner: five fields read in an IANA
 * time zone, and what happens on the days daylight saving time starts and ends.
 */
import { describe, expect, it } from "vitest";
import { cronProblem, nextCronTime, nextTimes } from "../../src/automation/cron.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (times: number[]) => times.map((ms) => new Date(ms).toISOString());
const schedule = (cron: string, timeZone: string) => ({ on: "schedule" as const, cron, timeZone });

describe("cronProblem", () => {
  it("accepts five-field expressions in a known zone", () => {
    expect(cronProblem("0 9 * * 1", "Europe/Paris")).toBeUndefined();
    expect(cronProblem("*/15 8-18 * * mon-fri", "America/New_York")).toBeUndefined();
    expect(cronProblem("30 2 1 1 *", "UTC")).toBeUndefined();
  });

  it("says what is wrong, in words", () => {
    expect(cronProblem("0 9 * *", "UTC")).toMatch(/five fields .* not 4/);
    expect(cronProblem("0 0 9 * * 1", "UTC")).toMatch(/five fields .* not 6/);
    expect(cronProblem("0 25 * * *", "UTC")).toBe("Invalid value for hour: 25");
    expect(cronProblem("61 * * * *", "UTC")).toMatch(/minute/);
    expect(cronProblem("0 9 * * funday", "UTC")).toBeDefined();
    expect(cronProblem("0 9 31 2 *", "UTC")).toBe("it never fires (no date matches it)");
    expect(cronProblem("0 9 * * 1", "Mars/Olympus_Mons")).toBe(
      "Mars/Olympus_Mons is not a known IANA time zone",
    );
  });
});

describe("nextTimes", () => {
  it("fires `0 9 * * 1` on Mondays at 9:00 in the zone, winter and summer alike", () => {
    // 2 March 2026 is a Monday; New York moves to EDT on Sunday 8 March.
    const ny = nextTimes(schedule("0 9 * * 1", "America/New_York"), at("2026-03-01T00:00Z"), 3);
    expect(iso(ny)).toEqual([
      "2026-03-02T14:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
      "2026-03-16T13:00:00.000Z",
    ]);
    const paris = nextTimes(schedule("0 9 * * 1", "Europe/Paris"), at("2026-11-30T08:00Z"), 2);
    // 09:00 in Paris is 08:00Z in winter: a time equal to `from` is not "after" it.
    expect(iso(paris)).toEqual(["2026-12-07T08:00:00.000Z", "2026-12-14T08:00:00.000Z"]);
  });

  it("Europe/Paris, spring forward (29 March 2026, 02:00 → 03:00): a skipped time fires once, after the gap", () => {
    const daily = nextTimes(schedule("30 2 * * *", "Europe/Paris"), at("2026-03-28T12:00Z"), 3);
    // 03:00 CEST on the day itself, then 02:30 CEST (00:30Z) again.
    expect(iso(daily)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ]);
    // A half-hourly schedule counts elapsed time: 01:30 CET, then 03:00 CEST, an hour apart.
    const every30 = nextTimes(schedule("*/30 * * * *", "Europe/Paris"), at("2026-03-29T00:10Z"), 3);
    expect(iso(every30)).toEqual([
      "2026-03-29T00:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-29T01:30:00.000Z",
    ]);
  });

  it("Europe/Paris, fall back (25 October 2026, 03:00 → 02:00): a repeated time fires once, the first time", () => {
    const daily = nextTimes(schedule("30 2 * * *", "Europe/Paris"), at("2026-10-24T12:00Z"), 2);
    expect(iso(daily)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    // Half-hourly: 02:00 and 02:30 twice each (CEST, then CET), every 30 minutes of real time.
    const every30 = nextTimes(schedule("*/30 * * * *", "Europe/Paris"), at("2026-10-24T23:50Z"), 5);
    expect(iso(every30)).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
  });

  it("America/New_York, spring forward (8 March 2026) and fall back (1 November 2026)", () => {
    const spring = nextTimes(
      schedule("30 2 * * *", "America/New_York"),
      at("2026-03-07T12:00Z"),
      2,
    );
    // 02:30 does not exist on the 8th: 03:00 EDT (07:00Z); then 02:30 EDT (06:30Z).
    expect(iso(spring)).toEqual(["2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"]);
    const fall = nextTimes(schedule("30 1 * * *", "America/New_York"), at("2026-10-31T12:00Z"), 2);
    // 01:30 comes twice on the 1st: the first, EDT (05:30Z), once; then 01:30 EST (06:30Z).
    expect(iso(fall)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
  });

  it("gives a time trigger's one time while it is ahead", () => {
    const trigger = { on: "time" as const, at: at("2026-12-24T17:00Z") };
    expect(nextTimes(trigger, at("2026-12-01T00:00Z"), 3)).toEqual([trigger.at]);
    expect(nextTimes(trigger, trigger.at, 3)).toEqual([]);
  });

  it("gives nothing for an invalid expression or zone, and at most 100 times", () => {
    expect(nextTimes(schedule("nope", "UTC"), 0, 3)).toEqual([]);
    expect(nextTimes(schedule("0 9 * * 1", "Nowhere/Else"), 0, 3)).toEqual([]);
    expect(nextTimes(schedule("* * * * *", "UTC"), 0, 0)).toEqual([]);
    expect(nextTimes(schedule("* * * * *", "UTC"), 0, 1000)).toHaveLength(100);
    expect(nextCronTime("0 0 1 1 *", "UTC", at("2026-06-01T00:00Z"))).toBe(at("2027-01-01T00:00Z"));
  });
});
