import * as z from "zod";
import { Emoji, MessageText, Role, RoomName, Topic } from "./names.ts";
import { IncomingHookId, WebhookId } from "./integration-ids.ts";

/**
 * Additions: the wire types of automation (docs/automation.md). A rule is a trigger, conditions
 * and actions. A room's rules are events in its log (`rule.saved`, `rule.deleted`), so they are
 * audited and undone like anything else; the instance's rules (admins) live beside the instance's
 * webhooks and apply to every room their condition names.
 */

export const RuleId = z.string().regex(/^rl_[0-9a-f]{16}$/, "a rule id is rl_ and 16 hex");
export type RuleId = z.infer<typeof RuleId>;

export const PluginId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, "a plugin id is 2-40 of a-z, 0-9 and -, starting with a letter");
export type PluginId = z.infer<typeof PluginId>;

/** A plugin's command name, as typed after the slash. */
export const PluginCommandName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,31}$/,
    "a command is 1-32 of a-z, 0-9, _ and -, starting with a letter",
  );

export const LIMITS_AUTOMATION = {
  rulesPerRoom: 50,
  rulesPerInstance: 50,
  actionsPerRule: 5,
  keywordsPerRule: 20,
  keywordChars: 64,
  patternChars: 200,
  /** Actions every rule of one room may take together in a minute (loop protection). */
  actionsPerMinute: 30,
  /** How far back a dry run looks. */
  dryRunEvents: 500,
  remindersPerUser: 25,
} as const;

/** An IANA time zone (`Europe/Paris`, `UTC`), checked against the runtime's Intl. */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, "not a known IANA time zone");

/** `HH:MM`, 00:00 to 24:00. */
export const ClockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "a time of day is HH:MM, 00:00 to 24:00");

// ---- triggers ----

export const MessageMatch = z
  .object({
    /** Any of these words or phrases, matched on word boundaries, ignoring case. */
    keywords: z
      .array(z.string().trim().min(1).max(LIMITS_AUTOMATION.keywordChars))
      .max(LIMITS_AUTOMATION.keywordsPerRule)
      .optional(),
    /** An RE2 pattern (linear time: no backreferences, no lookaround), matched anywhere. */
    pattern: z.string().min(1).max(LIMITS_AUTOMATION.patternChars).optional(),
  })
  .refine(
    (match) => (match.keywords?.length ?? 0) > 0 || match.pattern !== undefined,
    "a message trigger needs keywords or a pattern",
  );

export const Trigger = z.discriminatedUnion("on", [
  z.object({ on: z.literal("message"), match: MessageMatch }),
  z.object({ on: z.literal("member_joined") }),
  z.object({ on: z.literal("member_left") }),
  z.object({ on: z.literal("reaction"), emoji: Emoji.optional() }),
  /** A recurring schedule: a five-field cron expression read in `timeZone`. */
  z.object({ on: z.literal("schedule"), cron: z.string().min(9).max(100), timeZone: TimeZone }),
  /** Once, at an exact time (ms since the epoch). */
  z.object({ on: z.literal("time"), at: z.number().int().positive() }),
  /** A post through one of the room's incoming webhooks. */
  z.object({ on: z.literal("webhook"), hook: IncomingHookId }),
]);
export type Trigger = z.infer<typeof Trigger>;

// ---- conditions ----

export const TimeWindow = z.object({
  /** Days of the week, 0 = Sunday; all when absent. */
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7).optional(),
  from: ClockTime,
  to: ClockTime,
  timeZone: TimeZone,
});
export type TimeWindow = z.infer<typeof TimeWindow>;

export const Conditions = z.object({
  /** The triggering person's role is one of these (guests and non-members have none). */
  roles: z.array(Role).min(1).max(3).optional(),
  /** Instance rules only: the rooms they apply to (all when absent). */
  rooms: z.array(RoomName).min(1).max(50).optional(),
  /** Only inside this window of the week. */
  window: TimeWindow.optional(),
});
export type Conditions = z.infer<typeof Conditions>;

// ---- actions ----

/**
 * Text an action posts. `{user}` is the triggering person's name, `{text}` the triggering
 * message's text, `{room}` the room's name.
 */
export const ActionText = MessageText;

export const Action = z.discriminatedUnion("do", [
  z.object({ do: z.literal("post"), text: ActionText }),
  /** A reply to the triggering message: the thread it opens. */
  z.object({ do: z.literal("reply"), text: ActionText }),
  z.object({ do: z.literal("react"), emoji: Emoji }),
  /** A post that mentions every member holding `role` (or a higher one). */
  z.object({ do: z.literal("notify"), role: Role, text: ActionText }),
  /** Delivers `automation.fired` to one of the room's outgoing webhooks. */
  z.object({ do: z.literal("webhook"), webhook: WebhookId }),
  /** Mutes the triggering person. */
  z.object({
    do: z.literal("mute"),
    seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600),
  }),
  z.object({ do: z.literal("topic"), topic: Topic }),
  /** Runs a plugin's slash command as the rule, with `args` as its text. */
  z.object({
    do: z.literal("plugin"),
    plugin: PluginId,
    command: PluginCommandName,
    args: z.string().max(1000).default(""),
  }),
]);
export type Action = z.infer<typeof Action>;

export const RuleName = z.string().trim().min(1).max(80);

/** A rule as it is written (the body of PUT .../rules/{id}). */
export const RuleInput = z.object({
  name: RuleName,
  enabled: z.boolean().default(true),
  trigger: Trigger,
  conditions: Conditions.default({}),
  actions: z.array(Action).min(1).max(LIMITS_AUTOMATION.actionsPerRule),
});
export type RuleInput = z.infer<typeof RuleInput>;

/** A rule as stored and listed. `by`: who saved it last. */
export const Rule = RuleInput.extend({
  id: RuleId,
  by: z.object({ id: z.string(), name: z.string() }),
  savedAt: z.number(),
  /** When a schedule or time trigger fires next (ms), or null when it will not. */
  nextAt: z.number().nullable().optional(),
});
export type Rule = z.infer<typeof Rule>;

/** What a dry run found: each recent event that would have fired the rule, and what it would do. */
export const DryRunHit = z.object({
  seq: z.number().int(),
  at: z.number(),
  summary: z.string(),
  actions: z.array(z.string()),
  /** Skipped by the loop protection's budget, or its own action. */
  skipped: z.string().optional(),
});
export const DryRunReport = z.object({
  scanned: z.number().int(),
  hits: z.array(DryRunHit),
  /** For schedule and time triggers: the next firings. */
  upcoming: z.array(z.number()).optional(),
});
export type DryRunReport = z.infer<typeof DryRunReport>;

// ---- reminders ----

export const ReminderId = z
  .string()
  .regex(/^rem_[0-9a-f]{16}$/, "a reminder id is rem_ and 16 hex");
export const Reminder = z.object({
  id: ReminderId,
  /** `me`: to its author alone (an ephemeral frame); `here`: posted in the room. */
  to: z.enum(["me", "here"]),
  text: MessageText,
  /** The next time it fires (ms). */
  at: z.number(),
  /** Recurring reminders: the cron expression and its zone. */
  cron: z.string().optional(),
  timeZone: TimeZone.optional(),
  by: z.object({ id: z.string(), name: z.string() }),
  createdAt: z.number(),
});
export type Reminder = z.infer<typeof Reminder>;

// ---- plugins ----

export const PluginVersion = z
  .string()
  .regex(/^\d{1,4}\.\d{1,4}\.\d{1,4}$/, "a version is MAJOR.MINOR.PATCH");

/** What an installed plugin says it does (read from the plugin itself at install). */
export const PluginManifest = z.object({
  id: PluginId,
  version: PluginVersion,
  description: z.string().max(300).default(""),
  hooks: z.object({ beforeCommit: z.boolean(), afterEvent: z.boolean() }),
  commands: z
    .array(
      z.object({
        name: PluginCommandName,
        usage: z.string().max(200),
        description: z.string().max(300),
      }),
    )
    .max(10),
  jobs: z
    .array(z.object({ name: PluginCommandName, cron: z.string().max(100), timeZone: TimeZone }))
    .max(5),
  /** Hosts its fetch may reach (none: no network at all). */
  hosts: z.array(z.string().max(253)).max(10),
});
export type PluginManifest = z.infer<typeof PluginManifest>;

export const RoomPluginState = z.object({ plugin: PluginId, enabled: z.boolean() });
