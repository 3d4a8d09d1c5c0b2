import * as z from "zod";
import { ChainReport, Hash } from "./chain.ts";
import { RoomName, Seq, UserId } from "./names.ts";

/**
 * The instance audit log (docs/audit.md, "Instance audit log"): who did what, when and from
 * where, across rooms and accounts, itself hash-chained. One zod schema per wire type.
 */

/** Every action the log records; nothing else can be written to it. */
export const AuditAction = z.enum([
  // Sign-ins and sessions (src/routes/auth.ts).
  "auth.signed_in",
  "auth.sign_in_failed",
  "auth.guest_signed_in",
  "auth.signed_out",
  // Accounts.
  "account.registered",
  "account.password_changed",
  "account.deleted",
  // Accounts, by instance admins (src/routes/admin-users.ts): the target is the user.
  "account.sessions_ended",
  "account.banned",
  "account.unbanned",
  "account.deleted_by_admin",
  // Service accounts and their keys, by admins (src/routes/services.ts) and by the owners of
  // bots (src/routes/bots.ts), both through src/routes/service-accounts.ts; never a secret.
  "service.created",
  "service.scope_changed",
  "service.disabled",
  "service.enabled",
  "service.key_created",
  "service.key_rotated",
  "service.key_revoked",
  "service.deleted",
  // Integrations, by rooms' owners and admins (src/routes/webhooks.ts, incoming-webhooks.ts):
  // the target is the room (none for the instance's webhooks); never a secret or a whole URL.
  "webhook.created",
  "webhook.changed",
  "webhook.deleted",
  "webhook.secret_rotated",
  "webhook.replayed",
  "incoming_webhook.created",
  "incoming_webhook.revoked",
  // The Slack bridge's links, by admins (src/routes/slack.ts): the target is the room.
  "slack.linked",
  "slack.unlinked",
  // Plugins, by admins (src/routes/plugins.ts): no target; `plugin` (its id) in the data. Also
  // `plugin.enabled` and `plugin.disabled` (below): for the instance they have no target.
  "plugin.installed",
  "plugin.version_changed",
  "plugin.deleted",
  // Room moderation, from the rooms' own events (src/audit/room-entries.ts).
  "room.created",
  "room.topic_changed",
  "room.slow_mode_changed",
  "room.ownership_transferred",
  "member.invited",
  "member.role_changed",
  "member.kicked",
  "member.banned",
  "member.unbanned",
  "member.muted",
  "member.unmuted",
  "message.deleted",
  "message.restored",
  "message.redacted",
  // A room's automation, from its events (docs/automation.md, "Rules in the log"); `rule.saved`
  // and `rule.deleted` also for the instance's rules, by admins (src/routes/instance-rules.ts),
  // with no target.
  "rule.saved",
  "rule.deleted",
  "plugin.enabled",
  "plugin.disabled",
]);
export type AuditAction = z.infer<typeof AuditAction>;

/** What an action was done to: a room, a user, a message of a room; any of them, or none. */
export const AuditTarget = z
  .object({
    room: RoomName.optional(),
    user: UserId.optional(),
    message: Seq.optional(),
  })
  .strict();
export type AuditTarget = z.infer<typeof AuditTarget>;

/**
 * Who acted. `id` is empty when nobody is known: a failed sign-in names the username that was
 * tried, never proven to be anyone's.
 */
export const AuditActor = z.object({ id: z.string().max(64), name: z.string().max(64) });

/** Details of an action: small and flat (a reason, a role, a duration). */
export const AuditData = z.record(
  z.string().max(32),
  z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]),
);
export type AuditData = z.infer<typeof AuditData>;

/** An action as the recorders hand it to the log, before it is numbered and chained. */
export const AuditEntryInput = z.object({
  at: z.number().int().nonnegative(),
  actor: AuditActor,
  action: AuditAction,
  target: AuditTarget,
  /** The client's address (`CF-Connecting-IP`); null when the action did not come with one. */
  ip: z.string().max(64).nullable(),
  data: AuditData,
  /**
   * Makes a record idempotent: an input whose ref the log already holds is skipped (a room
   * resending after a failed call). Not part of the entry.
   */
  ref: z.string().max(200).optional(),
});
export type AuditEntryInput = z.infer<typeof AuditEntryInput>;

/** One entry of the log as stored and served: numbered, stamped and chained. */
export const AuditEntry = AuditEntryInput.omit({ ref: true }).extend({
  seq: Seq,
  id: z.string().min(1),
  contentHash: Hash,
  prevHash: Hash,
  hash: Hash,
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/**
 * Query numbers arrive as strings; anything but a plain non-negative integer is a 400. Messages
 * name no field: the router puts the field's name before them.
 */
const queryInt = z
  .string()
  .regex(/^\d{1,15}$/, "expected a non-negative integer")
  .transform(Number);

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

/** `GET /api/admin/audit`: filters, all optional and combined with AND; newest first. */
export const AuditQuery = z
  .object({
    /** A user id, or a name (case-insensitively): failed sign-ins only have the name tried. */
    actor: z.string().trim().min(1, "give a user id or a name").max(64).optional(),
    action: AuditAction.optional(),
    /** Milliseconds since the epoch, inclusive. */
    since: queryInt.optional(),
    /** Milliseconds since the epoch, inclusive. */
    until: queryInt.optional(),
    /** The cursor: the previous page's `nextBefore`; only entries with a lower seq. */
    before: queryInt.pipe(Seq).optional(),
    limit: queryInt
      .pipe(z.number().int().min(1, "at least 1").max(AUDIT_PAGE_MAX, `at most ${AUDIT_PAGE_MAX}`))
      .default(AUDIT_PAGE_DEFAULT),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since <= q.until, {
    message: "must not be after until",
    path: ["since"],
  });
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({
  entries: z.array(AuditEntry),
  /** Pass as `before` for the next (older) page; null when this page is the last. */
  nextBefore: Seq.nullable(),
  /** Where the page came from: the log itself, or its Postgres mirror (which may lag). */
  source: z.enum(["log", "postgres"]),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** `GET /api/admin/audit/verify`: the chain of the log itself, as for a room (no anchor). */
export const AuditChainReport = ChainReport;
