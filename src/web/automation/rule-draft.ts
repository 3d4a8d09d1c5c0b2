import {
  LIMITS_AUTOMATION,
  RuleInput,
  type Role,
  type RuleAction,
  type Trigger,
} from "../../client/index.ts";
import { SCHEDULE_PRESETS } from "./automation-rules.ts";

/**
 * The rule builder's state (rule-builder.ts), pure: what each field of the form holds, as text,
 * turned into a RuleInput and checked by the contract's own schema, whose messages (like the
 * server's, which uses the same schema) are placed next to the part of the form they are about.
 */

export type TriggerKind = Trigger["on"];
export type ActionKind = RuleAction["do"];

/**
 * Whose rule the builder writes: a room's own, or the instance's (an admin's, in the dashboard),
 * which may name the rooms it applies to and has no incoming-webhook trigger (a hook is one room's).
 */
export type RuleScope = "room" | "instance";

/** The trigger kinds offered, in the order of the menu, with their words. */
export const TRIGGER_KINDS: readonly [TriggerKind, string][] = [
  ["message", "A message mentions words or matches a pattern"],
  ["member_joined", "Someone joins the room"],
  ["member_left", "Someone leaves the room"],
  ["reaction", "Someone reacts to a message"],
  ["schedule", "On a schedule"],
  ["time", "Once, at a date and time"],
  ["webhook", "A post arrives through an incoming webhook"],
];

/** The trigger kinds a scope offers: an instance rule has no incoming webhook to wait for. */
export const triggerKinds = (scope: RuleScope): readonly [TriggerKind, string][] =>
  scope === "instance" ? TRIGGER_KINDS.filter(([kind]) => kind !== "webhook") : TRIGGER_KINDS;

export const ACTION_KINDS: readonly [ActionKind, string][] = [
  ["post", "Post a message"],
  ["reply", "Reply in a thread"],
  ["react", "React with an emoji"],
  ["notify", "Notify a role"],
  ["webhook", "Send to a webhook"],
  ["mute", "Mute the author"],
  ["topic", "Set the topic"],
  ["plugin", "Run a plugin command"],
];

/** Every field an action may have; only those of its kind are read. */
export type ActionDraft = {
  do: ActionKind;
  text: string;
  emoji: string;
  role: Role;
  webhook: string;
  seconds: number;
  topic: string;
  /** `<plugin>/<command>`, one choice of the plugins' commands. */
  command: string;
  args: string;
};

export type RuleDraft = {
  name: string;
  enabled: boolean;
  on: TriggerKind;
  /** Comma-separated words and phrases. */
  keywords: string;
  pattern: string;
  emoji: string;
  cron: string;
  timeZone: string;
  /** A `datetime-local` value, read in the browser's own zone. */
  at: string;
  hook: string;
  roles: Role[];
  /** An instance rule's rooms, comma-separated; empty: every room. */
  rooms: string;
  window: boolean;
  days: number[];
  from: string;
  to: string;
  windowZone: string;
  actions: ActionDraft[];
};

export function emptyAction(kind: ActionKind = "post"): ActionDraft {
  return {
    do: kind,
    text: "",
    emoji: "",
    role: "moderator",
    webhook: "",
    seconds: 600,
    topic: "",
    command: "",
    args: "",
  };
}

/** A new rule's form: a message trigger and one post, times in `zone` (the browser's). */
export function emptyDraft(zone: string): RuleDraft {
  return {
    name: "",
    enabled: true,
    on: "message",
    keywords: "",
    pattern: "",
    emoji: "",
    cron: SCHEDULE_PRESETS[0]!.cron,
    timeZone: zone,
    at: "",
    hook: "",
    roles: [],
    rooms: "",
    window: false,
    days: [1, 2, 3, 4, 5],
    from: "09:00",
    to: "17:00",
    windowZone: zone,
    actions: [emptyAction()],
  };
}

/** `ms` as a `datetime-local` value in the browser's zone (`2026-05-04T09:00`). */
export function localInputOf(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** A `datetime-local` value as ms, read in the browser's zone; NaN when it is not one. */
export function msOfLocalInput(value: string): number {
  // ECMAScript reads a date-time without an offset as local time.
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? new Date(value).getTime() : Number.NaN;
}

/** The words of a keywords field: split at commas, trimmed, empty ones dropped. */
export const keywordsOf = (text: string) =>
  text
    .split(",")
    .map((word) => word.trim())
    .filter(Boolean);

/**
 * The room names of a rooms field: split at commas or white space, a leading `#` dropped (as the
 * rules' words write them), each once. Not lower-cased: a name the contract refuses is said so.
 */
export const roomsOf = (text: string) => [
  ...new Set(
    text
      .split(/[\s,]+/)
      .map((name) => name.replace(/^#/, ""))
      .filter(Boolean),
  ),
];

function actionDraftOf(action: RuleAction): ActionDraft {
  const draft = emptyAction(action.do);
  switch (action.do) {
    case "post":
    case "reply":
      return { ...draft, text: action.text };
    case "react":
      return { ...draft, emoji: action.emoji };
    case "notify":
      return { ...draft, role: action.role, text: action.text };
    case "webhook":
      return { ...draft, webhook: action.webhook };
    case "mute":
      return { ...draft, seconds: action.seconds };
    case "topic":
      return { ...draft, topic: action.topic };
    case "plugin":
      return { ...draft, command: `${action.plugin}/${action.command}`, args: action.args };
  }
}

/** The form of a saved rule, to edit it. */
export function draftOf(rule: RuleInput, zone: string): RuleDraft {
  const draft: RuleDraft = { ...emptyDraft(zone), name: rule.name, enabled: rule.enabled };
  const { trigger } = rule;
  draft.on = trigger.on;
  if (trigger.on === "message") {
    draft.keywords = (trigger.match.keywords ?? []).join(", ");
    draft.pattern = trigger.match.pattern ?? "";
  } else if (trigger.on === "reaction") draft.emoji = trigger.emoji ?? "";
  else if (trigger.on === "schedule") {
    draft.cron = trigger.cron;
    draft.timeZone = trigger.timeZone;
  } else if (trigger.on === "time") draft.at = localInputOf(trigger.at);
  else if (trigger.on === "webhook") draft.hook = trigger.hook;
  draft.roles = [...(rule.conditions.roles ?? [])];
  draft.rooms = (rule.conditions.rooms ?? []).join(", ");
  const window = rule.conditions.window;
  if (window) {
    draft.window = true;
    draft.days = [...(window.days ?? [0, 1, 2, 3, 4, 5, 6])];
    draft.from = window.from;
    draft.to = window.to;
    draft.windowZone = window.timeZone;
  }
  draft.actions = rule.actions.map(actionDraftOf);
  return draft;
}

function triggerOf(draft: RuleDraft): unknown {
  switch (draft.on) {
    case "message": {
      const keywords = keywordsOf(draft.keywords);
      const pattern = draft.pattern.trim();
      return {
        on: "message",
        match: {
          ...(keywords.length ? { keywords } : {}),
          ...(pattern ? { pattern } : {}),
        },
      };
    }
    case "member_joined":
    case "member_left":
      return { on: draft.on };
    case "reaction":
      return draft.emoji.trim()
        ? { on: "reaction", emoji: draft.emoji.trim() }
        : { on: "reaction" };
    case "schedule":
      return { on: "schedule", cron: draft.cron.trim(), timeZone: draft.timeZone.trim() };
    case "time":
      return { on: "time", at: msOfLocalInput(draft.at) };
    case "webhook":
      return { on: "webhook", hook: draft.hook };
  }
}

function actionOf(action: ActionDraft): unknown {
  switch (action.do) {
    case "post":
    case "reply":
      return { do: action.do, text: action.text };
    case "react":
      return { do: "react", emoji: action.emoji.trim() };
    case "notify":
      return { do: "notify", role: action.role, text: action.text };
    case "webhook":
      return { do: "webhook", webhook: action.webhook };
    case "mute":
      return { do: "mute", seconds: action.seconds };
    case "topic":
      return { do: "topic", topic: action.topic };
    case "plugin": {
      const [plugin = "", command = ""] = action.command.split("/");
      return { do: "plugin", plugin, command, args: action.args };
    }
  }
}

/** The draft as the API's body, unchecked. */
export function inputOf(draft: RuleDraft): unknown {
  const conditions: Record<string, unknown> = {};
  if (draft.roles.length) conditions.roles = draft.roles;
  const rooms = roomsOf(draft.rooms);
  if (rooms.length) conditions.rooms = rooms;
  if (draft.window)
    conditions.window = {
      ...(draft.days.length === 7 ? {} : { days: [...draft.days].sort((a, b) => a - b) }),
      from: draft.from,
      to: draft.to,
      timeZone: draft.windowZone.trim(),
    };
  return {
    name: draft.name,
    enabled: draft.enabled,
    trigger: triggerOf(draft),
    conditions,
    actions: draft.actions.map(actionOf),
  };
}

/** Where in the form a problem belongs. */
export type Place =
  { part: "name" | "trigger" | "conditions" | "form" } | { part: "action"; index: number };

export type Problem = { place: Place; message: string };

/** The part of the form a path into a RuleInput points at (`actions.2.text` → action 2). */
export function placeOf(path: readonly PropertyKey[]): Place {
  const [head, index] = path;
  if (head === "name") return { part: "name" };
  if (head === "trigger") return { part: "trigger" };
  if (head === "conditions") return { part: "conditions" };
  if (head === "actions" && typeof index === "number") return { part: "action", index };
  return { part: "form" };
}

/**
 * A server's 400 message placed: the routes prefix zod's first issue with its path
 * (`actions.1.text: text is empty`, src/http/openapi.ts); a message without one (a rule the
 * engine refuses as a whole) belongs to the form. The path goes; the words stay.
 */
export function placeOfMessage(message: string): Problem {
  const match = /^((?:[A-Za-z_]\w*|\d+)(?:\.(?:[A-Za-z_]\w*|\d+))*): (.+)$/s.exec(message);
  if (!match) return { place: { part: "form" }, message };
  const path = match[1]!.split(".").map((key) => (/^\d+$/.test(key) ? Number(key) : key));
  const place = placeOf(path);
  // A rule with no body of its own: the server's path may start at `rule.` (the dry run's body).
  if (place.part === "form" && path[0] === "rule" && path.length > 1)
    return { place: placeOf(path.slice(1)), message: match[2]! };
  return place.part === "form" ? { place, message } : { place, message: match[2]! };
}

/** What is wrong before anything is sent: a field left empty, in words, placed. */
function missing(draft: RuleDraft): Problem[] {
  const problems: Problem[] = [];
  if (!draft.name.trim())
    problems.push({ place: { part: "name" }, message: "Give the rule a name." });
  if (draft.on === "time" && Number.isNaN(msOfLocalInput(draft.at)))
    problems.push({ place: { part: "trigger" }, message: "Choose the date and time." });
  if (draft.on === "webhook" && !draft.hook)
    problems.push({ place: { part: "trigger" }, message: "Choose the incoming webhook." });
  if (draft.window && draft.days.length === 0)
    problems.push({ place: { part: "conditions" }, message: "Choose at least one day." });
  draft.actions.forEach((action, index) => {
    const place: Place = { part: "action", index };
    if (action.do === "webhook" && !action.webhook)
      problems.push({ place, message: "Choose the webhook." });
    if (action.do === "plugin" && !action.command)
      problems.push({ place, message: "Choose the plugin command." });
  });
  return problems;
}

/**
 * The draft checked: the RuleInput to send, or every problem placed (the empty fields first,
 * then the contract's schema, the same the server applies).
 */
export function checkDraft(
  draft: RuleDraft,
): { ok: true; input: RuleInput } | { ok: false; problems: Problem[] } {
  const problems = missing(draft);
  const parsed = RuleInput.safeParse(inputOf(draft));
  if (!parsed.success) {
    const placed = new Set(problems.map((p) => JSON.stringify(p.place)));
    for (const issue of parsed.error.issues) {
      const place = placeOf(issue.path);
      // One message per place: the first is the one to fix first.
      if (placed.has(JSON.stringify(place))) continue;
      placed.add(JSON.stringify(place));
      problems.push({ place, message: issue.message });
    }
  }
  if (problems.length || !parsed.success) return { ok: false, problems };
  return { ok: true, input: parsed.data };
}

/** The actions with the one at `from` moved to `to` (Move up, Move down). */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length || from === to) return [...list];
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item!);
  return next;
}

export const mayAddAction = (draft: Pick<RuleDraft, "actions">) =>
  draft.actions.length < LIMITS_AUTOMATION.actionsPerRule;

/** Which preset a cron expression is, or "custom". */
export const presetOf = (cron: string) =>
  SCHEDULE_PRESETS.find((preset) => preset.cron === cron.trim())?.cron ?? "custom";
