import type { Action, RuleInput, Trigger } from "../protocol/automation.ts";
import { minutesOf } from "./conditions.ts";
import { compileMatch } from "./matcher.ts";
import { placeholdersIn } from "./templates.ts";

/**
 * What zod cannot check of a rule (docs/automation.md, "Rules"), as messages for a 400 in the
 * shape of the routes' own (`path: message`): a pattern RE2 refuses, an instance-only condition
 * on a room's rule, a time in the past, and the parts that could never do anything given the
 * trigger (a reply with no message to reply to, a role condition nobody can meet).
 */

export type RuleCheck = {
  /** A room's own rule, or an instance rule (an admin's). */
  scope: "room" | "instance";
  /** ms since the epoch. */
  now: number;
  /** Why a cron expression is refused in its zone (the clock's cron.ts); unchecked without it. */
  cronProblem?: (cron: string, timeZone: string) => string | undefined;
};

/** What each trigger brings to the actions: a message, a person who is a member, a text. */
const TRIGGER_GIVES: Record<Trigger["on"], { message: boolean; member: boolean; text: boolean }> = {
  message: { message: true, member: true, text: true },
  // The incoming webhook's bot posts: a message, but its author is not a member.
  webhook: { message: true, member: false, text: true },
  reaction: { message: true, member: true, text: true },
  member_joined: { message: false, member: true, text: false },
  // Once gone, the person holds no role and can be muted no more.
  member_left: { message: false, member: false, text: false },
  schedule: { message: false, member: false, text: false },
  time: { message: false, member: false, text: false },
};

/** Every problem of `input`, in the order of its fields; none when it may be saved. */
export function ruleProblems(input: RuleInput, check: RuleCheck): string[] {
  return [
    ...triggerProblems(input.trigger, check),
    ...conditionProblems(input, check),
    ...input.actions.flatMap((action, index) => actionProblems(action, index, input.trigger)),
  ];
}

function triggerProblems(trigger: Trigger, check: RuleCheck): string[] {
  switch (trigger.on) {
    case "message": {
      const compiled = compileMatch(trigger.match);
      if (compiled.ok) return [];
      const field = trigger.match.pattern !== undefined ? "pattern" : "keywords";
      return [`trigger.match.${field}: ${compiled.error}`];
    }
    case "time":
      return trigger.at <= check.now
        ? [`trigger.at: ${new Date(trigger.at).toISOString()} is in the past`]
        : [];
    case "schedule": {
      const problem = check.cronProblem?.(trigger.cron, trigger.timeZone);
      return problem ? [`trigger.cron: ${problem}`] : [];
    }
    case "webhook":
      return check.scope === "instance"
        ? ["trigger.hook: an incoming webhook belongs to one room: make this a room's rule"]
        : [];
    default:
      return [];
  }
}

function conditionProblems(input: RuleInput, check: RuleCheck): string[] {
  const { roles, rooms, window } = input.conditions;
  const problems: string[] = [];
  if (rooms !== undefined && check.scope === "room")
    problems.push(
      "conditions.rooms: only an instance rule names rooms: a room's rule applies to its own room",
    );
  if (roles !== undefined && !TRIGGER_GIVES[input.trigger.on].member)
    problems.push(
      `conditions.roles: ${noMember(input.trigger.on)}, so a role condition never holds`,
    );
  if (window?.from === "24:00")
    problems.push("conditions.window.from: a window starts before 24:00");
  else if (window && minutesOf(window.from) === minutesOf(window.to))
    problems.push(`conditions.window: from ${window.from} to ${window.to} is empty`);
  return problems;
}

function actionProblems(action: Action, index: number, trigger: Trigger): string[] {
  const gives = TRIGGER_GIVES[trigger.on];
  const at = `actions.${index}`;
  const problems: string[] = [];
  if ((action.do === "reply" || action.do === "react") && !gives.message)
    problems.push(
      `${at}: ${action.do} needs a triggering message, and a ${trigger.on} trigger has none`,
    );
  if (action.do === "mute" && !gives.member)
    problems.push(`${at}: mute needs a triggering member: ${noMember(trigger.on)}`);
  const [field, template] = templateOf(action);
  if (template === undefined) return problems;
  const used = placeholdersIn(template);
  if (used.has("text") && !gives.text)
    problems.push(
      `${at}.${field}: {text} is the triggering message's text, and a ${trigger.on} trigger has none`,
    );
  if (used.has("user") && (trigger.on === "schedule" || trigger.on === "time"))
    problems.push(
      `${at}.${field}: {user} is who triggered the rule, and a ${trigger.on} trigger has nobody`,
    );
  return problems;
}

function templateOf(action: Action): [string, string | undefined] {
  switch (action.do) {
    case "post":
    case "reply":
    case "notify":
      return ["text", action.text];
    case "topic":
      return ["topic", action.topic];
    case "plugin":
      return ["args", action.args];
    default:
      return ["", undefined];
  }
}

/** Why a trigger of this kind has no member behind it. */
function noMember(on: Trigger["on"]): string {
  switch (on) {
    case "webhook":
      return "the incoming webhook's bot that triggers it is not a member";
    case "member_left":
      return "someone who has left is no longer a member";
    default:
      return `a ${on} trigger has nobody who triggers it`;
  }
}
