import { describe, expect, it } from "vitest";
import { dryRun, type NextTimes } from "../../src/automation/dry-run.ts";
import { ruleActor } from "../../src/automation/engine.ts";
import { DryRunReport, LIMITS_AUTOMATION } from "../../src/protocol/automation.ts";
import type { RoomEvent } from "../../src/protocol/events.ts";
import { bob, context, Log, mo, ROOM, rule, T0 } from "../support/automation-fixtures.ts";

const WEEK = 7 * 86_400_000;
/** Mondays 08:00 UTC from 12 January 2026: what the clock's cron.ts answers for `0 9 * * 1` in Paris in winter. */
const mondays: NextTimes = (_trigger, from, count) => {
  const first = Date.parse("2026-01-12T08:00:00Z");
  const next = first + Math.max(0, Math.ceil((from - first) / WEEK)) * WEEK;
  return Array.from({ length: count }, (_, i) => next + i * WEEK);
};
const dryContext = () => {
  const { budget: _unused, ...ctx } = context();
  return { ...ctx, nextTimes: mondays };
};

describe("dry run", () => {
  const incident = rule({ on: "message", match: { keywords: ["incident"] } }, [
    { do: "reply", text: "runbook for {user}" },
    { do: "notify", role: "moderator", text: "incident" },
  ]);

  it("lists each recent event that would have fired the rule, and what it would have done", () => {
    const log = new Log();
    const events = [
      log.joined(bob),
      log.posted(bob, "an incident in prod"),
      log.posted(mo, "fixed"),
    ];
    const report = dryRun({ ...incident, enabled: false }, events, dryContext());
    expect(DryRunReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      scanned: 3,
      hits: [
        {
          seq: 11,
          at: events[1]!.at,
          summary: 'bob posted "an incident in prod"',
          actions: ['reply to #11: "runbook for bob"', 'notify moderator+ (2 people): "incident"'],
        },
      ],
    });
  });

  it("shows the rule's own actions and the budget's drops as skipped", () => {
    const log = new Log();
    const own = log.posted(ruleActor(ROOM, incident), "incident");
    // 40 matching posts within a minute: 2 actions each, 30 a minute: 15 fire, 25 are dropped.
    const flood = Array.from({ length: 40 }, (_, i) =>
      log.posted(bob, `incident ${i}`, T0 + i * 1000),
    );
    const report = dryRun(incident, [own, ...flood], dryContext());
    expect(report.hits).toHaveLength(41);
    expect(report.hits[0]!.skipped).toBe("its own action: a rule never triggers itself");
    const dropped = report.hits.slice(1).filter((hit) => hit.skipped !== undefined);
    expect(report.hits.slice(1).length - dropped.length).toBe(
      LIMITS_AUTOMATION.actionsPerMinute / 2,
    );
    expect(dropped[0]!.skipped).toBe("over budget: the room's rules may take 30 actions a minute");
  });

  it(`scans the last ${LIMITS_AUTOMATION.dryRunEvents} events at most`, () => {
    const log = new Log(1);
    const events: RoomEvent[] = Array.from({ length: 600 }, (_, i) =>
      log.posted(bob, i === 50 || i === 550 ? "incident" : "chatter", T0 + i * 120_000),
    );
    const report = dryRun(incident, events, dryContext());
    expect(report.scanned).toBe(LIMITS_AUTOMATION.dryRunEvents);
    expect(report.hits.map((hit) => hit.seq)).toEqual([551]);
  });

  it("lists a schedule's next firings, those its conditions allow", () => {
    const standup = rule({ on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" }, [
      { do: "post", text: "stand-up" },
    ]);
    const ctx = { ...dryContext(), now: Date.parse("2026-01-13T00:00:00Z") };
    const report = dryRun(standup, [new Log().posted(bob, "hi")], ctx);
    expect(report).toEqual({
      scanned: 1,
      hits: [],
      upcoming: [19, 26, 33, 40, 47].map(
        (day) => Date.parse("2026-01-12T08:00:00Z") + (day - 12) * 86_400_000,
      ),
    });
    // A window of 10:00-12:00 UTC leaves out every 08:00 UTC firing.
    const windowed = {
      ...standup,
      conditions: { window: { from: "10:00", to: "12:00", timeZone: "UTC" } },
    };
    expect(dryRun(windowed, [], ctx).upcoming).toEqual([]);
  });
});
