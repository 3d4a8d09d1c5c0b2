import type { Actor } from "../identity/actor.ts";
import type { Action, Trigger } from "../protocol/automation.ts";
import type { AutomationFired } from "../protocol/automation-fired.ts";
import type { RoomEvent } from "../protocol/events.ts";
import type { Command } from "../protocol/frames.ts";
import { LIMITS, MessageText, type Role, type UserRef } from "../protocol/names.ts";
import { cutText, fillTemplate, type TemplateValues } from "./templates.ts";

/**
 * What each of a firing's actions does (docs/automation.md, "Actions"): a command the rule's actor
 * sends through the room's command flow, a webhook delivery, a plugin command, or nothing, with
 * the reason. Pure: the room carries the plan out.
 */

/** What the room tells the planner about its members. */
export interface RoomFacts {
  /** A user's role here; undefined for non-members (services stand by their scope, not here). */
  role(userId: string): Role | undefined;
  /** Whether the instance names this user admin. */
  isAdmin(userId: string): boolean;
  /** The members holding `role` or a higher one, for `notify`, in the order to mention them. */
  membersAtLeast(role: Role): readonly UserRef[];
  /** A message's current text, for `{text}` of a reaction trigger (the message reacted to). */
  messageText?(messageId: number): string | undefined;
}

/** What set a rule off: a committed event, or a schedule's due time. */
export type Cause =
  | {
      kind: "event";
      event: RoomEvent;
      /** Who did it: the poster, the joiner, the reactor. */
      person: UserRef;
      /** The message it is about: the post itself, or the message reacted to. */
      messageId?: number;
      /** That message's text, when known. */
      text: string;
    }
  | { kind: "tick"; trigger: Extract<Trigger, { on: "schedule" | "time" }>["on"]; dueAt: number };

export type PlannedStep = (
  | { kind: "command"; command: Command }
  | { kind: "webhook"; webhook: string; payload: AutomationFired }
  | { kind: "plugin"; plugin: string; command: string; args: string }
  | { kind: "skip"; action: Action["do"]; reason: string }
) & {
  /**
   * `rule:<ruleId>:<seq or dueAt>:<i>`, the same on every replay: a command's clientId, so that
   * the room's idempotency keys make a replayed firing a no-op, and the dedupe key of the others.
   */
  key: string;
  /** What it does, in a line: for dry runs and the audit. */
  summary: string;
};

export type PlanInput = {
  room: string;
  rule: { id: string; name: string; trigger: Trigger };
  actor: Actor;
  cause: Cause;
  facts: RoomFacts;
};

/** The key of a firing: the triggering event's seq, or the due time. */
export const causeKey = (cause: Cause): string =>
  cause.kind === "event" ? String(cause.event.seq) : String(cause.dueAt);

/** Every action of the rule, planned in order. */
export function planActions(input: PlanInput, actions: readonly Action[]): PlannedStep[] {
  const values: TemplateValues = {
    user: input.cause.kind === "event" ? input.cause.person.name : "",
    text: input.cause.kind === "event" ? input.cause.text : "",
    room: input.room,
  };
  return actions.map((action, index) => {
    const key = `rule:${input.rule.id}:${causeKey(input.cause)}:${index}`;
    return { key, ...planOne(action, input, values, key) };
  });
}

type Step = DistributiveOmit<PlannedStep, "key">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const skip = (action: Action["do"], reason: string): Step => ({
  kind: "skip",
  action,
  reason,
  summary: `skip ${action}: ${reason}`,
});

function planOne(action: Action, input: PlanInput, values: TemplateValues, key: string): Step {
  const messageId = input.cause.kind === "event" ? input.cause.messageId : undefined;
  switch (action.do) {
    case "post":
      return postStep("post", fillTemplate(action.text, values, LIMITS.messageCodePoints), key);
    case "reply": {
      if (messageId === undefined) return skip("reply", noMessage(input.cause));
      const text = fillTemplate(action.text, values, LIMITS.messageCodePoints);
      return postStep("reply", text, key, messageId);
    }
    case "react":
      if (messageId === undefined) return skip("react", noMessage(input.cause));
      return {
        kind: "command",
        command: { type: "react", clientId: key, messageId, emoji: action.emoji, on: true },
        summary: `react ${action.emoji} on #${messageId}`,
      };
    case "notify":
      return notifyStep(action, input, values, key);
    case "webhook":
      return {
        kind: "webhook",
        webhook: action.webhook,
        payload: firedPayload(input),
        summary: `send automation.fired to webhook ${action.webhook}`,
      };
    case "mute":
      return muteStep(action.seconds, input, key);
    case "topic": {
      const topic = fillTemplate(action.topic, values, LIMITS.topicCodePoints);
      return {
        kind: "command",
        command: { type: "topic", clientId: key, topic },
        summary: `set the topic to ${quoted(topic)}`,
      };
    }
    case "plugin": {
      const args = fillTemplate(action.args, values, PLUGIN_ARGS_MAX);
      return {
        kind: "plugin",
        plugin: action.plugin,
        command: action.command,
        args,
        summary: `run /${action.command} of plugin ${action.plugin}${args ? ` with ${quoted(args)}` : ""}`,
      };
    }
  }
}

/** A plugin action's `args` at most (src/protocol/automation.ts). */
const PLUGIN_ARGS_MAX = 1000;

function postStep(what: "post" | "reply", text: string, key: string, replyTo?: number): Step {
  if (!MessageText.safeParse(text).success)
    return skip(what, "its text is empty once its placeholders are filled in");
  const command: Command =
    replyTo === undefined
      ? { type: "post", clientId: key, text }
      : { type: "post", clientId: key, text, replyTo };
  const summary =
    replyTo === undefined ? `post ${quoted(text)}` : `reply to #${replyTo}: ${quoted(text)}`;
  return { kind: "command", command, summary };
}

/**
 * A post mentioning `@name` of every member holding the role or a higher one, on a line after the
 * text. The mentions take at most MENTIONS_MAX code points (those that do not fit are counted
 * instead: `and 12 more`); the text is cut to leave them room.
 */
function notifyStep(
  action: Extract<Action, { do: "notify" }>,
  input: PlanInput,
  values: TemplateValues,
  key: string,
): Step {
  const people = input.facts.membersAtLeast(action.role);
  const text = fillTemplate(action.text, values, LIMITS.messageCodePoints);
  if (!MessageText.safeParse(text).success)
    return skip("notify", "its text is empty once its placeholders are filled in");
  const mentions = mentionLine(people.map((person) => `@${person.name}`));
  const post =
    mentions === ""
      ? text
      : `${cutText(text, LIMITS.messageCodePoints - length(mentions) - 1)}\n${mentions}`;
  const who =
    people.length === 0 ? `nobody holds ${action.role} or higher` : `${people.length} people`;
  return {
    kind: "command",
    command: { type: "post", clientId: key, text: post },
    summary: `notify ${action.role}+ (${who}): ${quoted(text)}`,
  };
}

/** The room a notification's mentions take at most: half a message. */
export const MENTIONS_MAX = LIMITS.messageCodePoints / 2;
/** Kept free for the `and N more` after the mentions that fit. */
const MORE_RESERVE = " and 1000000 more".length;

const length = (text: string) => [...text].length;

/** `@ada @bo`, or as many as fit in MENTIONS_MAX and `and N more`. */
export function mentionLine(mentions: readonly string[]): string {
  const all = mentions.join(" ");
  if (length(all) <= MENTIONS_MAX) return all;
  const kept: string[] = [];
  let used = 0;
  for (const mention of mentions) {
    const cost = length(mention) + (kept.length > 0 ? 1 : 0);
    if (used + cost > MENTIONS_MAX - MORE_RESERVE) break;
    kept.push(mention);
    used += cost;
  }
  return [...kept, `and ${mentions.length - kept.length} more`].join(" ");
}

/** Mutes the triggering person, when a rule (a moderator) may: members only. */
function muteStep(seconds: number, input: PlanInput, key: string): Step {
  if (input.cause.kind !== "event")
    return skip("mute", `a ${input.cause.trigger} trigger has nobody to mute`);
  const person = input.cause.person;
  if (person.id === input.actor.id) return skip("mute", "a rule does not mute itself");
  if (input.facts.isAdmin(person.id)) return skip("mute", `${person.name} is an instance admin`);
  const role = input.facts.role(person.id);
  if (role === undefined) return skip("mute", `${person.name} is not a member of the room`);
  if (role !== "member")
    return skip(
      "mute",
      `${person.name} is ${role === "owner" ? "the owner" : "a moderator"}: a rule mutes members only`,
    );
  return {
    kind: "command",
    command: { type: "mute", clientId: key, userId: person.id, seconds },
    summary: `mute ${person.name} for ${seconds} s`,
  };
}

function firedPayload(input: PlanInput): AutomationFired {
  const { cause, rule, room } = input;
  const at = cause.kind === "event" ? cause.event.at : cause.dueAt;
  const data: AutomationFired["data"] = {
    room,
    rule: { id: rule.id, name: rule.name },
    trigger: rule.trigger.on,
  };
  if (cause.kind === "event") data.event = cause.event;
  else data.dueAt = cause.dueAt;
  return { type: "automation.fired", timestamp: new Date(at).toISOString(), data };
}

function noMessage(cause: Cause): string {
  if (cause.kind === "tick") return `a ${cause.trigger} trigger has no message`;
  return `a ${cause.event.type} event has no message`;
}

/** A text in a summary: quoted, its first 60 characters on one line. */
export const quoted = (text: string): string =>
  JSON.stringify(cutText(text.replace(/\s+/g, " "), 60));
