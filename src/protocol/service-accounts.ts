import * as z from "zod";
import { ACTIONS, rankFor, type Action } from "./permissions.ts";
import { RoomName, UserRef, Username } from "./names.ts";

/**
 * Service accounts and their API keys (docs/service-keys.md): the wire types of the admin API
 * (`/api/admin/services`) and the scope a service acts within.
 */

export const SERVICE_ID_PREFIX = "svc_";
export const ServiceId = z.string().regex(/^svc_[0-9a-f]{32}$/, "a service id is svc_ and 32 hex");

/** Whether a user id is a service account's: for showing services as such (events name ids). */
export const isServiceId = (id: string): boolean => id.startsWith(SERVICE_ID_PREFIX);
export const KeyId = z.string().regex(/^[0-9a-f]{16}$/, "a key id is 16 hex characters");

/** The role a service acts with in the rooms of its scope: never the owner. */
export const ServiceRole = z.enum(["member", "moderator"]);
export type ServiceRole = z.infer<typeof ServiceRole>;

/** The actions a service may be given: those a moderator may take; owners' stay with people. */
export const SERVICE_ACTIONS = ACTIONS.filter((action) => rankFor(action) !== "owner") as [
  Action,
  ...Action[],
];
export const ServiceAction = z.enum(SERVICE_ACTIONS, {
  error: (issue) => `not an action a service may be given: ${JSON.stringify(issue.input)}`,
});

/**
 * Rooms named in a scope at most: every socket keeps its actor, scope included, in an
 * attachment the runtime caps (16 KiB, most of it for GraphQL subscriptions).
 */
export const SCOPE_ROOMS_MAX = 20;

export const ScopeRooms = z.union([
  z.literal("*"),
  z
    .array(RoomName)
    .min(1, 'give at least one room, or "*" for every room')
    .max(SCOPE_ROOMS_MAX, `at most ${SCOPE_ROOMS_MAX} rooms, or "*" for every room`),
]);

/** A bot's rooms: named one by one, each one its owner owns; `"*"` is for admins' services. */
export const BotRooms = z
  .array(RoomName, {
    error: (issue) =>
      issue.input === "*"
        ? 'a bot names its rooms one by one: "*" (every room) is for admins\' services'
        : undefined,
  })
  .min(1, "give at least one room")
  .max(SCOPE_ROOMS_MAX, `at most ${SCOPE_ROOMS_MAX} rooms`);

/** Bots one user may own at most (`/api/bots`); the 11th is `409 conflict`. */
export const BOTS_PER_USER_MAX = 10;

/** Where a service may act (room names, or `*`), what it may do there, and with which role. */
export const ScopeShape = z.object({
  rooms: ScopeRooms,
  actions: z.array(ServiceAction).min(1, "give at least one action"),
  role: ServiceRole,
});
export type ServiceScope = z.infer<typeof ScopeShape>;

/** Whether the scope's role allows its actions: a moderator's actions need the moderator role. */
const roleFits = (scope: z.infer<typeof ScopeShape>) =>
  scope.role === "moderator" || scope.actions.every((a) => rankFor(a) !== "moderator");
const ROLE_MISFIT = {
  message: "an action in this scope needs the moderator role: give it, or drop the action",
  path: ["role"],
};

/** A scope as an admin sends it: a moderator's actions need the moderator role. */
export const ServiceScope = ScopeShape.strict().refine(roleFits, ROLE_MISFIT);

/**
 * A bot's scope, as its owner sends it to `/api/bots`: its rooms named (each must be one they
 * own, which the route checks with the rooms), and the same rules of roles and actions.
 */
export const BotScope = ScopeShape.extend({ rooms: BotRooms })
  .strict()
  .refine(roleFits, ROLE_MISFIT);
export type BotScope = z.infer<typeof BotScope>;

/** The scope as stored: each room and action once, in the order given. */
export const normalScope = (scope: ServiceScope): ServiceScope => ({
  rooms: scope.rooms === "*" ? "*" : [...new Set(scope.rooms)],
  actions: [...new Set(scope.actions)],
  role: scope.role,
});

/** Whether `room` is one of the rooms of `rooms`. */
export const roomInScope = (rooms: ServiceScope["rooms"], room: string): boolean =>
  rooms === "*" || rooms.includes(room);

/** Where a key stands: usable, usable until `expiresAt` (rotated), or no longer. */
export const KeyStatus = z.enum(["active", "expiring", "expired", "revoked"]);
export type KeyStatus = z.infer<typeof KeyStatus>;

/** A key as admins see it: never its secret, never its hash. Times are ms since the epoch. */
export const ServiceKeyInfo = z.object({
  id: KeyId,
  status: KeyStatus,
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  /** Updated at most once a minute. */
  lastUsedAt: z.number().nullable(),
});
export type ServiceKeyInfo = z.infer<typeof ServiceKeyInfo>;

export const ServiceAccount = z.object({
  id: ServiceId,
  name: Username,
  /**
   * Who owns it: the user who made it at `/api/bots` (a bot), or the admin who made it at
   * `/api/admin/services`. Its owner manages it at `/api/bots`; admins manage every one.
   */
  owner: UserRef,
  createdBy: UserRef,
  createdAt: z.number(),
  disabledAt: z.number().nullable(),
  scope: ScopeShape,
  /** Newest first. */
  keys: z.array(ServiceKeyInfo),
});
export type ServiceAccount = z.infer<typeof ServiceAccount>;

export const ServiceList = z.object({ services: z.array(ServiceAccount) });

/** `GET /api/bots`: the caller's bots, by name, and how many a user may have. */
export const BotList = z.object({ bots: z.array(ServiceAccount), max: z.number().int() });
export type BotList = z.infer<typeof BotList>;

export const ServiceParam = z.object({ service: ServiceId });
export const ServiceKeyParam = z.object({ service: ServiceId, key: KeyId });

export const CreateService = z.object({ name: Username, scope: ServiceScope }).strict();
export type CreateService = z.infer<typeof CreateService>;

export const UpdateScope = z.object({ scope: ServiceScope }).strict();

/** `POST /api/bots`: a bot of one's own, in rooms one owns. */
export const CreateBot = z.object({ name: Username, scope: BotScope }).strict();
export type CreateBot = z.infer<typeof CreateBot>;

export const UpdateBotScope = z.object({ scope: BotScope }).strict();

export const OVERLAP_DEFAULT_SECONDS = 24 * 60 * 60;
export const OVERLAP_MAX_SECONDS = 30 * 24 * 60 * 60;

/** `POST …/keys/{key}/rotate`: how long the old key keeps working beside the new one. */
export const RotateKey = z
  .object({
    overlapSeconds: z
      .number()
      .int("whole seconds")
      .min(0, "0 or more seconds")
      .max(OVERLAP_MAX_SECONDS, `at most ${OVERLAP_MAX_SECONDS} s (30 days)`)
      .default(OVERLAP_DEFAULT_SECONDS),
  })
  .strict();

/**
 * A key just made: `key` is the whole secret, `ecsk_<id>_<secret>`, shown this once and
 * stored only as a hash; with the service as it is now.
 */
export const IssuedKey = z.object({
  service: ServiceAccount,
  key: z.object({ id: KeyId, secret: z.string(), createdAt: z.number() }),
});
export type IssuedKey = z.infer<typeof IssuedKey>;
