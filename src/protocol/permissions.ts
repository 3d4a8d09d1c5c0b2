import type { Command } from "./frames.ts";
import type { Refusal } from "./errors.ts";
import type { Role } from "./names.ts";

/**
 * Who may do what in a room (docs/roles.md), in one place: the room's rules, the edge's checks
 * and the UI's menus all ask `can`, so that nothing the UI offers is refused and nothing the
 * room refuses is checked differently elsewhere.
 */

/** Ranks, lowest first: everyone else, members, moderators, the owner, instance admins. */
export const RANKS = ["none", "member", "moderator", "owner", "admin"] as const;
export type Rank = (typeof RANKS)[number];

/**
 * Someone's standing in one room: their role there (none for a non-member), whether the
 * instance names them admin, and for a service account (docs/service-keys.md) the actions its
 * scope allows: `can` refuses any other, whatever the role. Every caller passes through this type.
 */
export type Standing = {
  readonly role: Role | undefined;
  readonly admin?: boolean | undefined;
  /** The actions allowed; absent for people, who are limited by their rank alone. */
  readonly scope?: readonly Action[] | undefined;
};

export function rankOf(who: Standing): Rank {
  return who.admin ? "admin" : (who.role ?? "none");
}

const level = (rank: Rank) => RANKS.indexOf(rank);

/** Whether `who` ranks at least `rank`. */
export const atLeast = (who: Standing, rank: Rank) => level(rankOf(who)) >= level(rank);

/** Orders members by rank, highest first: for lists. */
export const byRank = (a: Standing, b: Standing) => level(rankOf(b)) - level(rankOf(a));

/**
 * The least rank each command needs. Keyed by every command type, so a new command does not
 * type-check until it has a rank. Anyone who may see the room may post, react, edit or delete
 * their own messages and leave; in a public room that first command makes them a member.
 */
export const COMMAND_RANK = {
  post: "none",
  edit: "none",
  delete: "none",
  react: "none",
  undo: "none",
  redo: "none",
  redact: "none",
  leave: "none",
  topic: "moderator",
  slow_mode: "moderator",
  invite: "moderator",
  mute: "moderator",
  unmute: "moderator",
  kick: "moderator",
  ban: "moderator",
  unban: "moderator",
  role: "owner",
  transfer: "owner",
  // The room's automation (docs/automation.md): the same ranks as manage_rules and manage_plugins.
  save_rule: "moderator",
  delete_rule: "moderator",
  enable_plugin: "owner",
  disable_plugin: "owner",
  // Only the room's Transcriber bot, which the room's rules check by name (docs/attachments.md).
  transcript: "none",
} as const satisfies Record<Command["type"], Rank>;

export type CommandType = keyof typeof COMMAND_RANK;

/** The commands that take at least a moderator: derived from COMMAND_RANK, so it cannot drift. */
export type ModerationCommandType = {
  [T in CommandType]: (typeof COMMAND_RANK)[T] extends "none" ? never : T;
}[CommandType];

export const isModeration = (type: CommandType): type is ModerationCommandType =>
  COMMAND_RANK[type] !== "none";

/** What can be asked of `can`: every command, and the powers some commands carry on top. */
export const EXTRA_RANK = {
  /** Delete someone else's message. */
  delete_any: "moderator",
  /** Redact someone else's message. */
  redact_any: "moderator",
  /** Invite someone straight in as a moderator. */
  invite_moderator: "owner",
  /** Post without waiting for slow mode. */
  skip_slow_mode: "moderator",
  /** See who is banned. */
  list_bans: "moderator",
  /** Verify and export the room's log. */
  audit: "owner",
  /** Manage the room's webhooks, incoming webhooks and slash commands (docs/integrations.md). */
  integrations: "owner",
  /** See, save and delete the room's rules (docs/automation.md). */
  manage_rules: "moderator",
  /** Turn the instance's plugins on or off in the room (docs/plugins.md). */
  manage_plugins: "owner",
  /** See and cancel the room's `here` reminders, whoever set them (docs/automation.md). */
  any_reminder: "moderator",
} as const satisfies Record<string, Rank>;

export type Action = CommandType | keyof typeof EXTRA_RANK;
const ACTION_RANK: Record<Action, Rank> = { ...COMMAND_RANK, ...EXTRA_RANK };

/** Every action, in the table's order. */
export const ACTIONS = Object.keys(ACTION_RANK) as [Action, ...Action[]];

/** The least rank `action` needs. */
export const rankFor = (action: Action): Rank => ACTION_RANK[action];

/** The commands that act on another member: the target must rank below the actor, and is never the owner. */
const TARGETED = new Set<Action>(["mute", "unmute", "kick", "ban", "unban", "role", "transfer"]);

const RANK_REFUSAL: Record<Rank, string> = {
  none: "",
  member: "only members may do that",
  moderator: "only the room's owner and moderators may do that",
  owner: "only the room's owner may do that",
  admin: "only an instance admin may do that",
};

/**
 * Why `who` may not take `action` (on `target`, for the commands that act on a member), or
 * undefined when they may.
 * @example refusal({ role: "moderator" }, "kick", { role: "member" }) // undefined
 */
export function refusal(who: Standing, action: Action, target?: Standing): Refusal | undefined {
  if (who.scope && !who.scope.includes(action))
    return { code: "forbidden", message: `this service's scope does not include "${action}"` };
  const needed = ACTION_RANK[action];
  if (!atLeast(who, needed)) return { code: "forbidden", message: RANK_REFUSAL[needed] };
  if (!TARGETED.has(action) || !target) return undefined;
  // Not even an admin: a room without its owner would have nobody to hand it on.
  if (target.role === "owner")
    return { code: "forbidden", message: "nobody may act on the room's owner" };
  if (level(rankOf(target)) >= level(rankOf(who)))
    return { code: "forbidden", message: "you may only act on someone of a lower role than yours" };
  return undefined;
}

/** Whether `who` may take `action` (on `target`). */
export const can = (who: Standing, action: Action, target?: Standing): boolean =>
  refusal(who, action, target) === undefined;
