import { describe, expect, it } from "vitest";
import { ruleProblems, type RuleCheck } from "../../src/automation/validate.ts";
import { RuleInput } from "../../src/protocol/automation.ts";

const NOW = Date.parse("2026-01-14T10:00:00Z");
const room: RuleCheck = { scope: "room", now: NOW };
const instance: RuleCheck = { scope: "instance", now: NOW };
/** A rule as the route has it: parsed by zod first, defaults filled in. */
const input = (raw: unknown) => RuleInput.parse({ name: "Test", ...(raw as object) });

describe("ruleProblems", () => {
  it("has nothing to say of a sound rule", () => {
    const sound = input({
      trigger: { on: "message", match: { keywords: ["incident"], pattern: "SEV[12]" } },
      conditions: {
        roles: ["member"],
        window: { from: "22:00", to: "06:00", timeZone: "Europe/Paris" },
      },
      actions: [
        { do: "reply", text: "runbook for {user}: {text}" },
        { do: "react", emoji: "🚨" },
        { do: "notify", role: "moderator", text: "incident in {room}" },
        { do: "mute", seconds: 60 },
        { do: "plugin", plugin: "poll", command: "poll", args: "{text}" },
      ],
    });
    expect(ruleProblems(sound, room)).toEqual([]);
  });

  it("explains a pattern RE2 refuses", () => {
    const lookahead = input({
      trigger: { on: "message", match: { pattern: "deploy(?!ed)" } },
      actions: [{ do: "post", text: "x" }],
    });
    expect(ruleProblems(lookahead, room)).toEqual([
      'trigger.match.pattern: the pattern is not valid RE2: invalid or unsupported Perl syntax at "(?!" (RE2 has no lookahead or lookbehind: they cannot run in linear time)',
    ]);
  });

  it("refuses an instance-only condition on a room's rule", () => {
    const rooms = input({
      trigger: { on: "member_joined" },
      conditions: { rooms: ["ops"] },
      actions: [{ do: "post", text: "hi {user}" }],
    });
    expect(ruleProblems(rooms, room)).toEqual([
      "conditions.rooms: only an instance rule names rooms: a room's rule applies to its own room",
    ]);
    expect(ruleProblems(rooms, instance)).toEqual([]);
  });

  it("refuses a time in the past, and checks a cron with the clock's function", () => {
    const past = input({
      trigger: { on: "time", at: NOW - 1 },
      actions: [{ do: "post", text: "x" }],
    });
    expect(ruleProblems(past, room)).toEqual([
      "trigger.at: 2026-01-14T09:59:59.999Z is in the past",
    ]);
    const future = input({
      trigger: { on: "time", at: NOW + 1 },
      actions: [{ do: "post", text: "x" }],
    });
    expect(ruleProblems(future, room)).toEqual([]);
    const cron = input({
      trigger: { on: "schedule", cron: "61 * * * *", timeZone: "UTC" },
      actions: [{ do: "post", text: "x" }],
    });
    const cronProblem = (expr: string) =>
      expr.startsWith("61") ? "minute 61 is past 59" : undefined;
    expect(ruleProblems(cron, { ...room, cronProblem })).toEqual([
      "trigger.cron: minute 61 is past 59",
    ]);
  });

  it("refuses a webhook trigger on an instance rule: a hook is one room's", () => {
    const hooked = input({
      trigger: { on: "webhook", hook: "ih_000000000000000000000001" },
      actions: [{ do: "post", text: "x" }],
    });
    expect(ruleProblems(hooked, room)).toEqual([]);
    expect(ruleProblems(hooked, instance)).toEqual([
      "trigger.hook: an incoming webhook belongs to one room: make this a room's rule",
    ]);
  });

  it("names actions that need a message, a member or a text the trigger does not give", () => {
    const weekly = input({
      trigger: { on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" },
      conditions: { roles: ["owner"] },
      actions: [
        { do: "reply", text: "x" },
        { do: "react", emoji: "👋" },
        { do: "mute", seconds: 60 },
        { do: "post", text: "{user} said {text} in {room}" },
        { do: "topic", topic: "{text}" },
      ],
    });
    expect(ruleProblems(weekly, room)).toEqual([
      "conditions.roles: a schedule trigger has nobody who triggers it, so a role condition never holds",
      "actions.0: reply needs a triggering message, and a schedule trigger has none",
      "actions.1: react needs a triggering message, and a schedule trigger has none",
      "actions.2: mute needs a triggering member: a schedule trigger has nobody who triggers it",
      "actions.3.text: {text} is the triggering message's text, and a schedule trigger has none",
      "actions.3.text: {user} is who triggered the rule, and a schedule trigger has nobody",
      "actions.4.topic: {text} is the triggering message's text, and a schedule trigger has none",
    ]);
    const left = input({
      trigger: { on: "member_left" },
      conditions: { roles: ["member"] },
      actions: [
        { do: "mute", seconds: 60 },
        { do: "post", text: "{user} left" },
      ],
    });
    expect(ruleProblems(left, room)).toEqual([
      "conditions.roles: someone who has left is no longer a member, so a role condition never holds",
      "actions.0: mute needs a triggering member: someone who has left is no longer a member",
    ]);
    const hooked = input({
      trigger: { on: "webhook", hook: "ih_000000000000000000000001" },
      actions: [{ do: "mute", seconds: 60 }],
    });
    expect(ruleProblems(hooked, room)).toEqual([
      "actions.0: mute needs a triggering member: the incoming webhook's bot that triggers it is not a member",
    ]);
  });

  it("refuses an empty time window", () => {
    const window = (from: string, to: string) =>
      input({
        trigger: { on: "member_joined" },
        conditions: { window: { from, to, timeZone: "UTC" } },
        actions: [{ do: "post", text: "hi" }],
      });
    expect(ruleProblems(window("09:00", "09:00"), room)).toEqual([
      "conditions.window: from 09:00 to 09:00 is empty",
    ]);
    expect(ruleProblems(window("24:00", "06:00"), room)).toEqual([
      "conditions.window.from: a window starts before 24:00",
    ]);
    expect(ruleProblems(window("00:00", "24:00"), room)).toEqual([]);
  });
});
