import type { Actor } from "../identity/actor.ts";
import type { Rule, Trigger } from "../protocol/automation.ts";
import type { RoomEvent } from "../protocol/events.ts";
import type { Role, UserRef } from "../protocol/names.ts";
import type { ActionBudget } from "./budget.ts";
import { conditionsHold } from "./conditions.ts";
import { matcherFor } from "./matcher.ts";
import { planActions, quoted, type Cause, type PlannedStep, type RoomFacts } from "./plan.ts";
import { ruleActor } from "./rule-actor.ts";

export { ruleActor } from "./rule-actor.ts";
export type { Cause, PlannedStep, RoomFacts } from "./plan.ts";

/**
 * The rules engine (docs/automation.md, "Rules"): for committed events, which rules fire and
 * what each would do. Pure: the room hands it its rules, its events and what it knows of its
 * members, and carries out the plan (commands through its command flow as the rule's actor,
 * webhook deliveries, plugin commands).
 */

/** A rule as the engine reads it: a room's own, or the instance's (an admin's). */
export type EngineRule = Pick<
  Rule,
  "id" | "name" | "enabled" | "trigger" | "conditions" | "actions"
> & {
  /** An instance rule: it applies to the rooms its `rooms` condition names (all without one). */
  instance?: boolean;
};

export type EngineContext = {
  room: string;
  facts: RoomFacts;
  /** Each of the room's incoming webhooks' bot id, by hook id: a `webhook` trigger's author. */
  hookBots: ReadonlyMap<string, string>;
  /** The room's one budget: every rule's actions together (loop protection). */
  budget: ActionBudget;
  /** Now (ms): the time a schedule's firing takes its budget at. */
  now: number;
  /**
   * The rule on whose behalf another actor wrote `event`, if any: a plugin's bot posting what a
   * rule's plugin action asked of it. Such an event is that rule's own action too.
   */
  actedFor?: (event: RoomEvent) => string | undefined;
};

export type Firing = {
  rule: { id: string; name: string; instance: boolean };
  actor: Actor;
  cause: Cause;
  /** What each action would do, in the rule's order. */
  steps: PlannedStep[];
  /** Why nothing of it runs: the event was the rule's own action, or the budget is spent. */
  skipped?: string;
};

export const OWN_ACTION = "its own action: a rule never triggers itself";

/** The steps a firing carries out: none when it was skipped, and never the planned skips. */
export function stepsToRun(firing: Firing): Exclude<PlannedStep, { kind: "skip" }>[] {
  if (firing.skipped !== undefined) return [];
  return firing.steps.filter((step) => step.kind !== "skip");
}

/**
 * The firings of `rules` for `events` (committed, in order): for each event, each enabled rule
 * whose trigger it is and whose conditions hold, in the rules' order. A firing whose event was
 * written by the rule's own actor is reported skipped; so is one the budget cannot take whole.
 * Schedule and time triggers never fire here: the room's clock asks `firingForTick`.
 */
export function firingsFor(
  rules: readonly EngineRule[],
  events: readonly RoomEvent[],
  ctx: EngineContext,
): Firing[] {
  const firings: Firing[] = [];
  for (const event of events)
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const cause = causeOf(rule.trigger, event, ctx);
      if (!cause) continue;
      const firing = fire(rule, cause, ctx, event.at);
      if (firing) firings.push(firing);
    }
  return firings;
}

/**
 * The firing of a schedule or time rule due at `dueAt`, or undefined when it does not fire (it
 * is disabled, another kind of rule, or its conditions do not hold at `dueAt`). Its budget is
 * taken at `ctx.now`: a clock catching up after a restart still takes actions at today's rate.
 */
export function firingForTick(
  rule: EngineRule,
  dueAt: number,
  ctx: EngineContext,
): Firing | undefined {
  const { trigger } = rule;
  if (!rule.enabled || (trigger.on !== "schedule" && trigger.on !== "time")) return undefined;
  return fire(rule, { kind: "tick", trigger: trigger.on, dueAt }, ctx, ctx.now);
}

function fire(
  rule: EngineRule,
  cause: Cause,
  ctx: EngineContext,
  budgetAt: number,
): Firing | undefined {
  const person = cause.kind === "event" ? cause.person : undefined;
  const situation = {
    room: ctx.room,
    at: cause.kind === "event" ? cause.event.at : cause.dueAt,
    role: roleOf(person, ctx),
  };
  if (!conditionsHold(rule.conditions, situation)) return undefined;
  const actor = ruleActor(ctx.room, rule);
  const steps = planActions({ room: ctx.room, rule, actor, cause, facts: ctx.facts }, rule.actions);
  const firing: Firing = {
    rule: { id: rule.id, name: rule.name, instance: rule.instance === true },
    actor,
    cause,
    steps,
  };
  if (cause.kind === "event" && isOwnAction(cause.event, rule.id, actor, ctx))
    firing.skipped = OWN_ACTION;
  else if (!ctx.budget.take(countRunnable(steps), budgetAt))
    firing.skipped = overBudget(ctx.budget);
  return firing;
}

/** Written by the rule's actor, or by a plugin's bot running the rule's plugin action. */
const isOwnAction = (event: RoomEvent, ruleId: string, actor: Actor, ctx: EngineContext) =>
  event.actor.id === actor.id || ctx.actedFor?.(event) === ruleId;

const countRunnable = (steps: readonly PlannedStep[]) =>
  steps.filter((step) => step.kind !== "skip").length;

const overBudget = (budget: ActionBudget) =>
  `over budget: the room's rules may take ${budget.limit} actions a minute`;

const roleOf = (person: UserRef | undefined, ctx: EngineContext): Role | undefined =>
  person === undefined ? undefined : ctx.facts.role(person.id);

/** Whether `event` is `trigger`'s, and if so what set the rule off. */
export function causeOf(trigger: Trigger, event: RoomEvent, ctx: EngineContext): Cause | undefined {
  switch (trigger.on) {
    case "message":
      if (event.type !== "message.posted" || event.data.text === "") return undefined;
      return testText(trigger, event.data.text) ? posted(event) : undefined;
    case "webhook": {
      if (event.type !== "message.posted" || event.data.text === "") return undefined;
      const bot = ctx.hookBots.get(trigger.hook);
      return bot !== undefined && event.actor.id === bot ? posted(event) : undefined;
    }
    case "member_joined":
      if (event.type === "member.joined") return about(event, event.actor);
      // An invitation is how one joins a private room.
      if (event.type === "member.invited") return about(event, event.data.user);
      return undefined;
    case "member_left":
      return event.type === "member.left" ? about(event, event.actor) : undefined;
    case "reaction": {
      if (event.type !== "reaction.added") return undefined;
      if (trigger.emoji !== undefined && trigger.emoji !== event.data.emoji) return undefined;
      const { messageId } = event.data;
      const text = ctx.facts.messageText?.(messageId) ?? "";
      return { kind: "event", event, person: event.actor, messageId, text };
    }
    case "schedule":
    case "time":
      return undefined;
  }
}

function testText(trigger: Extract<Trigger, { on: "message" }>, text: string): boolean {
  const matcher = matcherFor(trigger.match);
  return matcher.ok && matcher.test(text);
}

const posted = (event: Extract<RoomEvent, { type: "message.posted" }>): Cause => ({
  kind: "event",
  event,
  person: event.actor,
  messageId: event.seq,
  text: event.data.text,
});

const about = (event: RoomEvent, person: UserRef): Cause => ({
  kind: "event",
  event,
  person,
  text: "",
});

/** What set the rule off, in a line: for dry runs. */
export function describeCause(cause: Cause): string {
  if (cause.kind === "tick") return `the ${cause.trigger} trigger came due`;
  const { event, person } = cause;
  switch (event.type) {
    case "message.posted":
      return `${person.name} posted ${quoted(event.data.text)}`;
    case "member.invited":
      return `${event.actor.name} invited ${person.name}`;
    case "member.joined":
      return `${person.name} joined`;
    case "member.left":
      return `${person.name} left`;
    case "reaction.added":
      return `${person.name} reacted ${event.data.emoji} to #${event.data.messageId}`;
    default:
      return `${person.name}: ${event.type}`;
  }
}

/** RoomFacts from a list of members: for dry runs over a snapshot, and tests. */
export function factsFromMembers(
  members: readonly (UserRef & { role: Role; admin?: boolean })[],
  messageText?: (messageId: number) => string | undefined,
): RoomFacts {
  const byId = new Map(members.map((member) => [member.id, member]));
  const rank = { member: 0, moderator: 1, owner: 2 } as const;
  return {
    role: (userId) => byId.get(userId)?.role,
    isAdmin: (userId) => byId.get(userId)?.admin === true,
    membersAtLeast: (role) =>
      members
        .filter((member) => rank[member.role] >= rank[role])
        .map(({ id, name }) => ({ id, name })),
    ...(messageText ? { messageText } : {}),
  };
}
