import {
  can,
  type DryRunReport,
  type Reminder,
  type Role,
  type Rule,
  type RuleAction,
  type RuleInput,
  type Standing,
  type TimeWindow,
  type Trigger,
} from "../../client/index.ts";

/**
 * The Automation view's words and rules (docs/automation.md, "In the UI"), pure so that unit
 * tests read them without a browser: who sees what, a rule in words, the schedule presets, times
 * as people read them, a dry run's report.
 */

/** Rules and schedules: moderators and above (`manage_rules`, as the API asks). */
export const mayAutomate = (you: Standing) => can(you, "manage_rules");

/** A room's plugins: its owner and admins (`manage_plugins`). */
export const mayManageRoomPlugins = (you: Standing) => can(you, "manage_plugins");

/** Names for ids a rule refers to: the room's incoming hooks and webhooks, as loaded. */
export type Names = {
  hooks?: ReadonlyMap<string, string>;
  webhooks?: ReadonlyMap<string, string>;
};

/** The schedules offered before a cron expression of one's own. */
export const SCHEDULE_PRESETS: readonly { label: string; cron: string }[] = [
  { label: "Every Monday at 9:00", cron: "0 9 * * 1" },
  { label: "Every weekday at 9:00", cron: "0 9 * * 1-5" },
  { label: "Every day at 9:00", cron: "0 9 * * *" },
  { label: "Every day at 17:00", cron: "0 17 * * *" },
  { label: "Every hour, on the hour", cron: "0 * * * *" },
  { label: "The first of every month at 9:00", cron: "0 9 1 * *" },
];

export const DAY_NAMES = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
] as const;
const SHORT_DAYS = DAY_NAMES.map((day) => day.slice(0, 3));

const quoted = (text: string) => `“${text}”`;

/** At most `max` characters of `text`, with an ellipsis when cut (a rule's text in a list). */
export function clip(text: string, max = 60): string {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}

/** `a`, `a or b`, `a, b or c`. */
export function orList(items: readonly string[], word = "or"): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${word} ${items.at(-1)}`;
}

const pad = (n: number) => String(n).padStart(2, "0");
const clockOf = (hour: number, minute: number) => `${hour}:${pad(minute)}`;

/** A day-of-week field (`1`, `1-5`, `0,6`) in words, or undefined when it is something else. */
function daysText(field: string): string | undefined {
  if (field === "*") return "every day";
  if (field === "1-5") return "every weekday";
  if (field === "0,6" || field === "6,0") return "every weekend day";
  const days = field.split(",").map(Number);
  if (!days.every((d) => Number.isInteger(d) && d >= 0 && d <= 7)) return undefined;
  return `every ${orList(
    days.map((d) => DAY_NAMES[d % 7]!),
    "and",
  )}`;
}

/**
 * A five-field cron expression in words for the common shapes (`0 9 * * 1` → "every Monday at
 * 9:00"); anything else as itself. The clock (src/automation/cron.ts) is what reads it.
 */
export function cronText(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  const raw = `on the schedule ${cron.trim()}`;
  if (fields.length !== 5) return raw;
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  const m = /^\d{1,2}$/.test(minute) ? Number(minute) : undefined;
  const hr = /^\d{1,2}$/.test(hour) ? Number(hour) : undefined;
  if (m === undefined || m > 59 || month !== "*") return raw;
  if (hour === "*" && day === "*" && weekday === "*")
    return m === 0 ? "every hour, on the hour" : `every hour at :${pad(m)}`;
  if (hr === undefined || hr > 23) return raw;
  const at = clockOf(hr, m);
  if (/^\d{1,2}$/.test(day) && weekday === "*") return `on day ${day} of every month at ${at}`;
  if (day !== "*") return raw;
  const days = daysText(weekday);
  return days ? `${days} at ${at}` : raw;
}

/** A date and time as people read it here ("Mon 4 May 2026, 09:00"), in `timeZone` if given. */
export function dateText(at: number, timeZone?: string): string {
  return new Date(at).toLocaleString(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(timeZone ? { timeZone } : {}),
  });
}

/** How far away `at` is: "in 45 s", "in 12 min", "in 3 h", "in 2 days"; "now" when due. */
export function untilText(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (seconds <= 0) return "now";
  if (seconds < 90) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

/** A trigger in words, after "When" ("a message mentions “incident”"). */
export function triggerText(trigger: Trigger, names: Names = {}): string {
  switch (trigger.on) {
    case "message": {
      const parts: string[] = [];
      const keywords = trigger.match.keywords ?? [];
      if (keywords.length) parts.push(`mentions ${orList(keywords.map(quoted))}`);
      if (trigger.match.pattern !== undefined) parts.push(`matches /${trigger.match.pattern}/`);
      return `a message ${parts.join(" or ")}`;
    }
    case "member_joined":
      return "someone joins";
    case "member_left":
      return "someone leaves";
    case "reaction":
      return trigger.emoji ? `someone reacts with ${trigger.emoji}` : "someone reacts";
    case "schedule":
      return `${cronText(trigger.cron)} (${trigger.timeZone})`;
    case "time":
      return `once, on ${dateText(trigger.at)}`;
    case "webhook": {
      const name = names.hooks?.get(trigger.hook);
      return `a post arrives through the incoming webhook ${name ? quoted(name) : trigger.hook}`;
    }
  }
}

const ROLE_PLURALS: Record<Role, string> = {
  owner: "the owner",
  moderator: "moderators",
  member: "members",
};

/** Mute lengths offered, in seconds, with their words. */
export const MUTE_CHOICES: readonly [number, string][] = [
  [60, "1 minute"],
  [300, "5 minutes"],
  [600, "10 minutes"],
  [3600, "1 hour"],
  [86_400, "1 day"],
  [7 * 86_400, "7 days"],
];

/** A length of time in words: one of the mute choices, or seconds, minutes, hours. */
export function durationText(seconds: number): string {
  const known = MUTE_CHOICES.find(([s]) => s === seconds);
  if (known) return known[1];
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** An action in words ("post “See the runbook”"). */
export function actionText(action: RuleAction, names: Names = {}): string {
  switch (action.do) {
    case "post":
      return `post ${quoted(clip(action.text))}`;
    case "reply":
      return `reply in a thread: ${quoted(clip(action.text))}`;
    case "react":
      return `react with ${action.emoji}`;
    case "notify":
      return `notify ${ROLE_PLURALS[action.role]}: ${quoted(clip(action.text))}`;
    case "webhook": {
      const name = names.webhooks?.get(action.webhook);
      return `send it to the webhook ${name ?? action.webhook}`;
    }
    case "mute":
      return `mute the author for ${durationText(action.seconds)}`;
    case "topic":
      return action.topic === ""
        ? "clear the topic"
        : `set the topic to ${quoted(clip(action.topic))}`;
    case "plugin":
      return `run /${action.command}${action.args ? ` ${clip(action.args, 40)}` : ""} (plugin ${action.plugin})`;
  }
}

/** A time window in words ("Mon–Fri, 09:00–17:00 Europe/Paris"). */
export function windowText(window: TimeWindow): string {
  const days = window.days ? [...window.days].sort((a, b) => a - b) : undefined;
  let dayPart = "every day";
  if (days && days.length < 7) {
    const run = days.every((d, i) => i === 0 || d === days[i - 1]! + 1);
    dayPart =
      run && days.length > 2
        ? `${SHORT_DAYS[days[0]!]}–${SHORT_DAYS[days.at(-1)!]}`
        : days.map((d) => SHORT_DAYS[d]).join(", ");
  }
  const overnight = window.to < window.from ? " (overnight)" : "";
  return `${dayPart}, ${window.from}–${window.to}${overnight} ${window.timeZone}`;
}

/** A rule's conditions in words, or "" when it has none. */
export function conditionsText(conditions: RuleInput["conditions"]): string {
  const parts: string[] = [];
  if (conditions.roles?.length)
    parts.push(`only for ${orList(conditions.roles.map((r) => ROLE_PLURALS[r]))}`);
  if (conditions.rooms?.length)
    parts.push(`only in ${orList(conditions.rooms.map((r) => `#${r}`))}`);
  if (conditions.window) parts.push(`only ${windowText(conditions.window)}`);
  return parts.join("; ");
}

/** The whole rule in one sentence: "When …, only …: post …; notify …". */
export function ruleSentence(rule: RuleInput, names: Names = {}): string {
  const conditions = conditionsText(rule.conditions);
  return (
    `When ${triggerText(rule.trigger, names)}${conditions ? ` (${conditions})` : ""}: ` +
    rule.actions.map((action) => actionText(action, names)).join("; ")
  );
}

/** Whether a rule fires by the clock (a schedule or an exact time) rather than on an event. */
export const isTimed = (rule: Pick<Rule, "trigger">) =>
  rule.trigger.on === "schedule" || rule.trigger.on === "time";

/** The Schedules list: timed rules, the soonest first, those that will not fire again last. */
export function timedRules(rules: readonly Rule[]): Rule[] {
  const next = (rule: Rule) => rule.nextAt ?? Number.POSITIVE_INFINITY;
  return rules.filter(isTimed).sort((a, b) => next(a) - next(b) || a.name.localeCompare(b.name));
}

/**
 * When a timed rule fires next, in words: a schedule's time in its own zone (as it was written),
 * a time's in the browser's. `nextAt` null is the server saying it will not fire again (a time
 * gone by); absent, the server did not say.
 */
export function nextText(
  rule: Pick<Rule, "enabled" | "nextAt"> & { trigger?: Trigger },
  now: number,
): string {
  if (!rule.enabled) return "off";
  if (rule.nextAt === undefined) return "not known yet";
  if (rule.nextAt === null) return "will not fire again";
  const zone = rule.trigger?.on === "schedule" ? rule.trigger.timeZone : undefined;
  const at = zone ? `${dateText(rule.nextAt, zone)} ${zone}` : dateText(rule.nextAt);
  return `${at} (${untilText(rule.nextAt, now)})`;
}

/** A reminder's line: to whom, when, and how often. */
export function reminderText(reminder: Reminder, now: number): string {
  const who = reminder.to === "me" ? `for ${reminder.by.name}` : "in the room";
  const repeat = reminder.cron
    ? `, then ${cronText(reminder.cron)} (${reminder.timeZone ?? "UTC"})`
    : "";
  return `${who}, ${dateText(reminder.at)} (${untilText(reminder.at, now)})${repeat}`;
}

/**
 * Whether `you` may cancel `reminder`: your own, and as a moderator the room's `here` ones (the
 * server decides; this only hides a button it would refuse).
 */
export function mayCancel(reminder: Reminder, you: { id: string; standing: Standing }): boolean {
  return reminder.by.id === you.id || (reminder.to === "here" && can(you.standing, "any_reminder"));
}

/** Reminders by time, the soonest first. */
export const byTime = (reminders: readonly Reminder[]) =>
  [...reminders].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));

/**
 * A dry run's headline: how much history it read and how often the rule would have fired. An
 * instance rule's (`room`, `applies`: InstanceDryRunReport) starts with its room, and says when
 * the rule's rooms leave that room out.
 */
export function dryRunHeadline(
  report: DryRunReport & { room?: string; applies?: boolean },
): string {
  if (report.room === undefined) return roomHeadline(report);
  if (report.applies === false)
    return `#${report.room} is not one of the rule's rooms: the rule never runs there, so nothing would have fired it.`;
  const text = roomHeadline(report);
  return `In #${report.room}, ${text[0]!.toLowerCase()}${text.slice(1)}`;
}

function roomHeadline(report: DryRunReport): string {
  const scanned = `${report.scanned} recent ${report.scanned === 1 ? "event" : "events"}`;
  const fired = report.hits.filter((hit) => hit.skipped === undefined).length;
  const skipped = report.hits.length - fired;
  const times = (n: number) => (n === 1 ? "once" : `${n} times`);
  let text = fired
    ? `Of ${scanned}, this rule would have fired ${times(fired)}`
    : `Of ${scanned}, none would have fired this rule`;
  if (skipped) text += `, and been held back ${times(skipped)}`;
  text += ".";
  if (report.upcoming?.length)
    text += ` It fires next ${dateText(report.upcoming[0]!)}${report.upcoming.length > 1 ? `, then ${report.upcoming.length - 1} more listed` : ""}.`;
  return text;
}
