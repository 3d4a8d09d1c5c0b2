import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ActionBudget } from "../../src/automation/budget.ts";
import { MENTIONS_MAX } from "../../src/automation/plan.ts";
import {
  factsFromMembers,
  firingForTick,
  firingsFor,
  OWN_ACTION,
  ruleActor,
  stepsToRun,
  type Firing,
} from "../../src/automation/engine.ts";
import { Actor } from "../../src/identity/actor.ts";
import { LIMITS_AUTOMATION, type Action } from "../../src/protocol/automation.ts";
import {
  Command,
  LIMITS,
  ServiceId,
  type RoomEvent,
  type UserRef,
} from "../../src/protocol/index.ts";
import { decide, denyAccess, type RoomView } from "../../src/room/decide.ts";
import {
  ada,
  bob,
  context,
  HOOK,
  HOOK_BOT,
  Log,
  members,
  mo,
  root,
  ROOM,
  rule,
  stranger,
  T0,
} from "../support/automation-fixtures.ts";

const onIncident = { on: "message" as const, match: { keywords: ["incident"] } };
const only = (firings: Firing[]): Firing => {
  expect(firings).toHaveLength(1);
  return firings[0]!;
};
const commands = (firing: Firing) =>
  stepsToRun(firing).flatMap((step) => (step.kind === "command" ? [step.command] : []));

describe("triggers", () => {
  it("message: a post whose text matches, and nothing else", () => {
    const log = new Log();
    const events = [
      log.posted(bob, "we have an INCIDENT"),
      log.posted(bob, "all quiet"),
      log.edited(bob, 11, "an incident after all"),
      // A redacted post is served with empty text: no longer a message to match.
      { ...log.posted(bob, ""), redacted: true as const },
    ];
    const firing = only(
      firingsFor([rule(onIncident, [{ do: "post", text: "ack" }])], events, context()),
    );
    expect(firing.cause.kind === "event" && firing.cause.event.seq).toBe(10);
  });

  it("message: a pattern, case-sensitive", () => {
    const byPattern = rule({ on: "message", match: { pattern: "SEV[12]\\b" } }, [
      { do: "post", text: "paging" },
    ]);
    const log = new Log();
    const events = [
      log.posted(bob, "SEV1 db"),
      log.posted(bob, "sev1 db"),
      log.posted(bob, "SEV3"),
    ];
    expect(firingsFor([byPattern], events, context()).map(seqOf)).toEqual([10]);
  });

  it("a disabled rule never fires", () => {
    const off = rule(onIncident, [{ do: "post", text: "ack" }], { enabled: false });
    expect(firingsFor([off], [new Log().posted(bob, "incident")], context())).toEqual([]);
  });

  it("member_joined: a join, or an invitation (how one joins a private room)", () => {
    const welcome = rule({ on: "member_joined" }, [{ do: "post", text: "welcome {user}" }]);
    const log = new Log();
    const events = [log.joined(bob), log.invited(ada, stranger), log.left(bob)];
    const firings = firingsFor([welcome], events, context());
    expect(firings.map((f) => commands(f)[0])).toEqual([
      { type: "post", clientId: "rule:rl_00000000000000a1:10:0", text: "welcome bob" },
      { type: "post", clientId: "rule:rl_00000000000000a1:11:0", text: "welcome eve" },
    ]);
  });

  it("member_left: a leave", () => {
    const bye = rule({ on: "member_left" }, [{ do: "post", text: "{user} left {room}" }]);
    const log = new Log();
    const firing = only(firingsFor([bye], [log.joined(bob), log.left(bob)], context()));
    expect(commands(firing)[0]).toMatchObject({ text: "bob left ops" });
  });

  it("reaction: any emoji, or the one it names", () => {
    const log = new Log();
    const events = [log.reacted(bob, 7, "🚨"), log.reacted(bob, 7, "👍")];
    const any = rule({ on: "reaction" }, [{ do: "post", text: "x" }]);
    const siren = rule({ on: "reaction", emoji: "🚨" }, [{ do: "post", text: "x" }]);
    expect(firingsFor([any], events, context()).map(seqOf)).toEqual([10, 11]);
    expect(firingsFor([siren], events, context()).map(seqOf)).toEqual([10]);
  });

  it("webhook: a post by the incoming webhook's bot, and nobody else's", () => {
    const hooked = rule({ on: "webhook", hook: HOOK }, [{ do: "reply", text: "seen: {text}" }]);
    const log = new Log();
    const events = [log.posted(HOOK_BOT, "disk full"), log.posted(bob, "disk full")];
    const firing = only(firingsFor([hooked], events, context()));
    expect(commands(firing)).toEqual([
      {
        type: "post",
        clientId: "rule:rl_00000000000000a1:10:0",
        text: "seen: disk full",
        replyTo: 10,
      },
    ]);
    // Another room's hook (unknown here) never matches.
    const elsewhere = rule({ on: "webhook", hook: "ih_00000000000000000000ffff" }, [
      { do: "post", text: "x" },
    ]);
    expect(firingsFor([elsewhere], events, context())).toEqual([]);
  });

  it("schedule and time triggers never fire on events: the clock asks firingForTick", () => {
    const weekly = rule({ on: "schedule", cron: "0 9 * * 1", timeZone: "UTC" }, [
      { do: "post", text: "x" },
    ]);
    expect(firingsFor([weekly], [new Log().posted(bob, "incident")], context())).toEqual([]);
  });
});

describe("conditions", () => {
  it("roles: the triggering person's role is one of them", () => {
    const mods = rule(onIncident, [{ do: "post", text: "x" }], {
      conditions: { roles: ["moderator", "owner"] },
    });
    const log = new Log();
    const events = [
      log.posted(bob, "incident"),
      log.posted(mo, "incident"),
      log.posted(stranger, "incident"),
    ];
    expect(firingsFor([mods], events, context()).map(seqOf)).toEqual([11]);
  });

  it("rooms: an instance rule applies to the rooms it names", () => {
    const elsewhere = rule(onIncident, [{ do: "post", text: "x" }], {
      instance: true,
      conditions: { rooms: ["dev"] },
    });
    const here = rule(onIncident, [{ do: "post", text: "x" }], {
      instance: true,
      conditions: { rooms: [ROOM] },
    });
    const events = [new Log().posted(bob, "incident")];
    expect(firingsFor([elsewhere], events, context())).toEqual([]);
    expect(only(firingsFor([here], events, context())).rule.instance).toBe(true);
  });

  it("window: read at the event's time", () => {
    const office = rule(onIncident, [{ do: "post", text: "x" }], {
      conditions: { window: { from: "09:00", to: "10:00", timeZone: "UTC" } },
    });
    const log = new Log();
    const events = [log.posted(bob, "incident", T0 - 1000), log.posted(bob, "incident", T0)];
    expect(firingsFor([office], events, context()).map(seqOf)).toEqual([10]);
  });
});

describe("actions", () => {
  const log = new Log(7);
  const message = log.posted(bob, "incident: db down");

  function planOf(actions: Action[], event: RoomEvent = message) {
    return only(firingsFor([rule(onIncident, actions)], [event], context()));
  }

  it("become commands of the rule's actor with deterministic clientIds", () => {
    const firing = planOf([
      { do: "post", text: "Runbook: https://runbook.example/db ({user} in {room})" },
      { do: "reply", text: "on it" },
      { do: "react", emoji: "👀" },
      { do: "topic", topic: "incident: {text}" },
      { do: "mute", seconds: 600 },
    ]);
    expect(commands(firing)).toEqual([
      {
        type: "post",
        clientId: "rule:rl_00000000000000a1:7:0",
        text: "Runbook: https://runbook.example/db (bob in ops)",
      },
      { type: "post", clientId: "rule:rl_00000000000000a1:7:1", text: "on it", replyTo: 7 },
      {
        type: "react",
        clientId: "rule:rl_00000000000000a1:7:2",
        messageId: 7,
        emoji: "👀",
        on: true,
      },
      {
        type: "topic",
        clientId: "rule:rl_00000000000000a1:7:3",
        topic: "incident: incident: db down",
      },
      { type: "mute", clientId: "rule:rl_00000000000000a1:7:4", userId: bob.id, seconds: 600 },
    ]);
    for (const command of commands(firing)) expect(Command.safeParse(command).success).toBe(true);
  });

  it("are the same plan on a replay: the room's idempotency keys make it a no-op", () => {
    const actions: Action[] = [
      { do: "post", text: "ack" },
      { do: "react", emoji: "👀" },
    ];
    expect(planOf(actions)).toEqual(planOf(actions));
  });

  it("notify: mentions every member with the role or higher", () => {
    const firing = planOf([{ do: "notify", role: "moderator", text: "incident in {room}" }]);
    expect(commands(firing)[0]).toMatchObject({ type: "post", text: "incident in ops\n@ada @mo" });
    expect(firing.steps[0]!.summary).toBe('notify moderator+ (2 people): "incident in ops"');
    const everyone = planOf([{ do: "notify", role: "member", text: "all hands" }]);
    expect(commands(everyone)[0]).toMatchObject({ text: "all hands\n@ada @mo @bob @cy @root" });
  });

  it("notify: a long text is cut to leave the mentions room", () => {
    const firing = planOf([
      { do: "notify", role: "owner", text: "x".repeat(LIMITS.messageCodePoints) },
    ]);
    const text = (commands(firing)[0] as { text: string }).text;
    expect([...text].length).toBe(LIMITS.messageCodePoints);
    expect(text.endsWith("…\n@ada")).toBe(true);
  });

  it("notify: the mentions that do not fit half a message are counted instead", () => {
    const crowd = Array.from({ length: 300 }, (_, i) => ({
      id: `u_${i}`,
      name: `moderator_${String(i).padStart(3, "0")}`,
      role: "moderator" as const,
    }));
    const ctx = context({ facts: factsFromMembers(crowd) });
    const firing = only(
      firingsFor(
        [rule(onIncident, [{ do: "notify", role: "moderator", text: "all hands" }])],
        [message],
        ctx,
      ),
    );
    const [text, line] = (commands(firing)[0] as { text: string }).text.split("\n");
    expect(text).toBe("all hands");
    const shown = line!.split(" @").length;
    expect(line).toMatch(/^@moderator_000 @moderator_001 .* @moderator_\d{3} and \d+ more$/);
    expect(line!.endsWith(`and ${300 - shown} more`)).toBe(true);
    expect([...line!].length).toBeLessThanOrEqual(MENTIONS_MAX);
  });

  it("webhook and plugin: plans of their own", () => {
    const firing = planOf([
      { do: "webhook", webhook: "wh_000000000000000000000001" },
      { do: "plugin", plugin: "poll", command: "poll", args: '"Roll back?" yes no ({user})' },
    ]);
    expect(stepsToRun(firing)).toEqual([
      {
        kind: "webhook",
        key: "rule:rl_00000000000000a1:7:0",
        webhook: "wh_000000000000000000000001",
        payload: {
          type: "automation.fired",
          timestamp: new Date(message.at).toISOString(),
          data: {
            room: ROOM,
            rule: { id: "rl_00000000000000a1", name: "Incident" },
            trigger: "message",
            event: message,
          },
        },
        summary: "send automation.fired to webhook wh_000000000000000000000001",
      },
      {
        kind: "plugin",
        key: "rule:rl_00000000000000a1:7:1",
        plugin: "poll",
        command: "poll",
        args: '"Roll back?" yes no (bob)',
        summary: 'run /poll of plugin poll with "\\"Roll back?\\" yes no (bob)"',
      },
    ]);
  });

  it("mute: members only; the owner, moderators, admins and non-members are skipped with a reason", () => {
    const mute: Action[] = [{ do: "mute", seconds: 60 }];
    const reasons = [ada, mo, root, stranger].map((who) => {
      const step = planOf(mute, new Log(20).posted(who, "incident")).steps[0]!;
      return step.kind === "skip" ? step.reason : step.kind;
    });
    expect(reasons).toEqual([
      "ada is the owner: a rule mutes members only",
      "mo is a moderator: a rule mutes members only",
      "root is an instance admin",
      "eve is not a member of the room",
    ]);
  });

  it("reply and react on a trigger without a message are skipped, and the plan says so", () => {
    const welcome = rule({ on: "member_joined" }, [
      { do: "react", emoji: "👋" },
      { do: "reply", text: "hi" },
      { do: "post", text: "hi {user}" },
    ]);
    const firing = only(firingsFor([welcome], [new Log().joined(bob)], context()));
    expect(firing.steps.map((s) => s.summary)).toEqual([
      "skip react: a member.joined event has no message",
      "skip reply: a member.joined event has no message",
      'post "hi bob"',
    ]);
    expect(stepsToRun(firing)).toHaveLength(1);
  });

  it("reaction: the message reacted to is the one replied to, its text is {text}", () => {
    const escalate = rule({ on: "reaction", emoji: "🚨" }, [
      { do: "reply", text: "escalated: {text}" },
    ]);
    const firing = only(firingsFor([escalate], [new Log(30).reacted(bob, 7, "🚨")], context()));
    expect(commands(firing)).toEqual([
      {
        type: "post",
        clientId: "rule:rl_00000000000000a1:30:0",
        text: "escalated: the deploy is stuck",
        replyTo: 7,
      },
    ]);
  });
});

describe("templates", () => {
  const echo = (text: string, template = "{user} said: {text}") =>
    commands(
      only(
        firingsFor(
          [rule(onIncident, [{ do: "post", text: template }])],
          [new Log().posted(bob, text)],
          context(),
        ),
      ),
    );

  it("are filled once: a value holding a placeholder stays as it is", () => {
    expect(echo("incident {user} {room} {nope}")[0]).toMatchObject({
      text: "bob said: incident {user} {room} {nope}",
    });
  });

  it("are cut to the message limit, at a code point", () => {
    const long = `incident ${"🚨".repeat(LIMITS.messageCodePoints)}`;
    const text = (echo(long)[0] as { text: string }).text;
    expect([...text].length).toBe(LIMITS.messageCodePoints);
    expect(text.isWellFormed()).toBe(true);
    expect(text.endsWith("🚨…")).toBe(true);
  });

  it("skip an action whose text comes out empty", () => {
    const firing = only(
      firingsFor(
        [rule({ on: "member_joined" }, [{ do: "post", text: "{text}" }])],
        [new Log().joined(bob)],
        context(),
      ),
    );
    expect(firing.steps[0]).toMatchObject({
      kind: "skip",
      reason: "its text is empty once its placeholders are filled in",
    });
  });
});

describe("who acts", () => {
  it("each rule as its own service-style actor, the same for the same room and rule", () => {
    const incident = rule(onIncident, [{ do: "post", text: "x" }]);
    const actor = ruleActor(ROOM, incident);
    expect(Actor.parse(actor)).toEqual(actor);
    expect(ServiceId.safeParse(actor.id).success).toBe(true);
    const digest = createHash("sha256").update(`rule:${ROOM}:${incident.id}`).digest("hex");
    expect(actor.id).toBe(`svc_${digest.slice(0, 32)}`);
    expect(actor).toMatchObject({
      name: "Rule: Incident",
      kind: "service",
      scope: { rooms: [ROOM], role: "moderator", actions: ["post", "react", "topic", "mute"] },
    });
    expect(ruleActor(ROOM, { ...incident, name: "Renamed" }).id).toBe(actor.id);
    expect(ruleActor("dev", incident).id).not.toBe(actor.id);
    expect(ruleActor(ROOM, { ...incident, id: "rl_00000000000000a2" }).id).not.toBe(actor.id);
  });

  it("with a moderator's standing: the room's own rules accept its commands", () => {
    const firing = only(
      firingsFor(
        [
          rule(onIncident, [
            { do: "post", text: "ack" },
            { do: "react", emoji: "👀" },
            { do: "topic", topic: "incident" },
            { do: "mute", seconds: 60 },
          ]),
        ],
        [new Log(7).posted(bob, "incident")],
        context(),
      ),
    );
    const room = roomView();
    // A private room: its scope names the room, so it may see it without being a member.
    expect(denyAccess(room, firing.actor)).toBeUndefined();
    const outcomes = commands(firing).map((command) => decide(command, firing.actor, room, T0));
    expect(outcomes.map((o) => (o.ok ? o.events.map((e) => e.type) : o.error.message))).toEqual([
      ["message.posted"],
      ["reaction.added"],
      ["room.topic_changed"],
      ["member.muted"],
    ]);
  });
});

describe("loop protection", () => {
  it("an event of a rule's own actor never triggers that rule", () => {
    const echo = rule({ on: "message", match: { keywords: ["ping"] } }, [
      { do: "post", text: "ping" },
    ]);
    const own = new Log().posted(ruleActor(ROOM, echo), "ping");
    const firing = only(firingsFor([echo], [own], context()));
    expect(firing.skipped).toBe(OWN_ACTION);
    expect(stepsToRun(firing)).toEqual([]);
  });

  it("counts what a plugin's bot wrote for a rule's plugin action as the rule's own", () => {
    const lunch = rule({ on: "message", match: { keywords: ["lunch"] } }, [
      { do: "plugin", plugin: "poll", command: "poll", args: "Lunch? pizza sushi" },
    ]);
    const other = rule(
      { on: "message", match: { keywords: ["lunch"] } },
      [{ do: "react", emoji: "🍕" }],
      { id: "rl_00000000000000c2", name: "Other" },
    );
    const pollBot: UserRef = { id: "svc_00000000000000000000000000000009", name: "Plugin: poll" };
    const log = new Log();
    const poll = log.posted(pollBot, "📊 Lunch?");
    const later = log.posted(pollBot, "📊 Lunch? again, by its own job");
    const ctx = context({
      actedFor: (event) => (event.seq === poll.seq ? lunch.id : undefined),
    });
    const [mine, others, next, othersNext] = firingsFor([lunch, other], [poll, later], ctx);
    expect(mine).toMatchObject({ rule: { id: lunch.id }, skipped: OWN_ACTION });
    // Another rule may answer it: a chain of rules is what rules are for.
    expect(others!.skipped).toBeUndefined();
    // The same bot's post that the rule did not ask for sets the rule off as anyone's.
    expect(next).toMatchObject({ rule: { id: lunch.id } });
    expect(next!.skipped).toBeUndefined();
    expect(othersNext!.rule.id).toBe(other.id);
  });

  it("two rules that trigger each other stop within the budget", () => {
    const ping = rule(
      { on: "message", match: { keywords: ["ping"] } },
      [{ do: "post", text: "pong" }],
      {
        id: "rl_00000000000000b1",
        name: "Ping",
      },
    );
    const pong = rule(
      { on: "message", match: { keywords: ["pong"] } },
      [{ do: "post", text: "ping" }],
      {
        id: "rl_00000000000000b2",
        name: "Pong",
      },
    );
    const ctx = context();
    const log = new Log();
    // The room: each command a firing runs is committed as the rule's post, 100 ms apart, and
    // handed to the engine again, until no rule acts.
    let pending: RoomEvent[] = [log.posted(bob, "ping", T0)];
    let ran = 0;
    const skipped: string[] = [];
    for (let turn = 0; pending.length > 0; turn++) {
      expect(turn).toBeLessThan(1000);
      const next: RoomEvent[] = [];
      for (const firing of firingsFor([ping, pong], pending, ctx)) {
        if (firing.skipped) skipped.push(firing.skipped);
        for (const command of commands(firing)) {
          ran++;
          if (command.type === "post")
            next.push(log.posted(firing.actor, command.text ?? "", T0 + ran * 100));
        }
      }
      pending = next;
    }
    expect(ran).toBe(LIMITS_AUTOMATION.actionsPerMinute);
    expect(skipped).toEqual(["over budget: the room's rules may take 30 actions a minute"]);
  });
});

describe("ticks (schedule and time)", () => {
  const standup = rule({ on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" }, [
    { do: "post", text: "Stand-up in {room}!" },
    { do: "react", emoji: "👋" },
    { do: "mute", seconds: 60 },
    { do: "webhook", webhook: "wh_000000000000000000000001" },
  ]);
  const monday9 = Date.parse("2026-01-12T08:00:00Z");

  it("fire with the due time as their key, and skip what needs a message or a person", () => {
    const firing = firingForTick(standup, monday9, context())!;
    expect(firing.steps.map((s) => s.key)).toEqual(
      [0, 1, 2, 3].map((i) => `rule:rl_00000000000000a1:${monday9}:${i}`),
    );
    expect(firing.steps.map((s) => s.summary)).toEqual([
      'post "Stand-up in ops!"',
      "skip react: a schedule trigger has no message",
      "skip mute: a schedule trigger has nobody to mute",
      "send automation.fired to webhook wh_000000000000000000000001",
    ]);
    const webhook = stepsToRun(firing)[1]!;
    expect(webhook.kind === "webhook" && webhook.payload.data).toEqual({
      room: ROOM,
      rule: { id: "rl_00000000000000a1", name: "Incident" },
      trigger: "schedule",
      dueAt: monday9,
    });
  });

  it("do not fire when disabled, outside their window, or for another kind of rule", () => {
    expect(firingForTick({ ...standup, enabled: false }, monday9, context())).toBeUndefined();
    const late = {
      ...standup,
      conditions: { window: { from: "10:00", to: "12:00", timeZone: "Europe/Paris" } },
    };
    expect(firingForTick(late, monday9, context())).toBeUndefined();
    expect(firingForTick(late, monday9 + 3_600_000, context())).toBeDefined();
    expect(
      firingForTick(rule(onIncident, [{ do: "post", text: "x" }]), monday9, context()),
    ).toBeUndefined();
  });

  it("take their budget at the clock's now, so a clock catching up is still bounded", () => {
    const ctx = context({ budget: new ActionBudget(3) });
    const fired = [0, 1, 2, 3, 4].map((week) =>
      firingForTick(standup, monday9 + week * 7 * 86_400_000, ctx)!,
    );
    // Two runnable actions each (the post and the webhook): one firing fits in 3.
    expect(fired.map((f) => f.skipped === undefined)).toEqual([true, false, false, false, false]);
  });
});

const seqOf = (firing: Firing) =>
  firing.cause.kind === "event" ? firing.cause.event.seq : undefined;

/** The room as decide sees it: the members of the fixtures, message 7 by bob. */
function roomView(): RoomView {
  const roles = new Map(members.map((m) => [m.id, m.role]));
  return {
    name: ROOM,
    visibility: "private",
    slowModeSeconds: 0,
    ownerId: ada.id,
    role: (id) => roles.get(id),
    isBanned: () => false,
    mutedUntil: () => 0,
    lastPostAt: () => 0,
    message: (id) => (id === 7 ? { authorId: bob.id, deleted: false, redacted: false } : undefined),
    textBefore: () => undefined,
    lastAction: () => undefined,
    lastUndone: () => undefined,
    hasReaction: () => false,
    invitesSince: () => ({ count: 0, oldestAt: 0 }),
    inviteLimit: { count: 10, windowMs: 60_000 },
    rule: () => undefined,
    ruleCount: () => 0,
    ruleBefore: () => undefined,
    pluginEnabled: () => false,
    postableUpload: () => undefined,
  };
}
