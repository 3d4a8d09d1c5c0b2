import * as z from "zod";
import { UserId, Username } from "./names.ts";

/**
 * User administration for instance admins (`/api/admin/users…`, docs/observability.md,
 * "Administration"): registered accounts found by name prefix, their sessions, and what an
 * admin may do to them (end their sessions, ban and unban them instance-wide, delete them).
 */

/** Query numbers arrive as strings; anything but a plain non-negative integer is a 400. */
const queryInt = z
  .string()
  .regex(/^\d{1,15}$/, "expected a non-negative integer")
  .transform(Number);

export const ADMIN_USERS_PAGE_DEFAULT = 50;
export const ADMIN_USERS_PAGE_MAX = 200;

/** The start of a username: the characters a username may have, at most as many. */
export const UsernamePrefix = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{0,32}$/, "a name prefix is at most 32 of A-Z, a-z, 0-9, _, . and -");

/** `GET /api/admin/users`: by name prefix (case-insensitive), in name order, paged by `after`. */
export const AdminUserQuery = z.object({
  prefix: UsernamePrefix.default(""),
  /** The cursor: the previous page's `nextAfter`; only names after it. */
  after: UsernamePrefix.optional(),
  limit: queryInt
    .pipe(
      z
        .number()
        .int()
        .min(1, "at least 1")
        .max(ADMIN_USERS_PAGE_MAX, `at most ${ADMIN_USERS_PAGE_MAX}`),
    )
    .default(ADMIN_USERS_PAGE_DEFAULT),
});
export type AdminUserQuery = z.infer<typeof AdminUserQuery>;

/** One account as the index lists it. Guests have no account and are never listed. */
export const AdminUser = z.object({
  id: UserId,
  name: Username,
  kind: z.literal("user"),
  createdAt: z.number().int(),
  /** When an admin banned the account instance-wide; null when it is not banned. */
  bannedAt: z.number().int().nullable(),
});
export type AdminUser = z.infer<typeof AdminUser>;

export const AdminUserList = z.object({
  users: z.array(AdminUser),
  /** Pass as `after` for the next page; null when this page is the last. */
  nextAfter: z.string().nullable(),
});
export type AdminUserList = z.infer<typeof AdminUserList>;

/** One session of an account (never its id or refresh token). */
export const AdminSession = z.object({
  createdAt: z.number().int(),
  /** Opened or last refreshed (every 15 minutes or so while a client is on); not per request. */
  lastUsedAt: z.number().int(),
  expiresAt: z.number().int(),
});
export type AdminSession = z.infer<typeof AdminSession>;

/** `GET /api/admin/users/{user}`: the account, its ban, and its open sessions. */
export const AdminUserDetail = AdminUser.extend({
  banReason: z.string().nullable(),
  /** Whether ADMIN_USERNAMES names this user. */
  admin: z.boolean(),
  /** The open sessions, most recently used first. */
  sessions: z.array(AdminSession),
  /** Rooms where the user has had sockets, created a room or was invited. */
  roomsUsed: z.number().int(),
});
export type AdminUserDetail = z.infer<typeof AdminUserDetail>;

/** A username in the path, matched case-insensitively. */
export const AdminUserParam = z.object({ user: Username });

/** `POST /api/admin/users/{user}/ban`: an optional reason, shown to nobody but admins. */
export const BanUser = z.object({ reason: z.string().trim().max(500).optional() });
export type BanUser = z.infer<typeof BanUser>;

/** `DELETE /api/admin/users/{user}/sessions`: how many sessions ended, and the account after. */
export const SessionsEnded = z.object({ ended: z.number().int(), user: AdminUserDetail });
export type SessionsEnded = z.infer<typeof SessionsEnded>;
