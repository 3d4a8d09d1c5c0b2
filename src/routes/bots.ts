import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { authenticate } from "../http/authenticate.ts";
import { bearer, router } from "../http/openapi.ts";
import { botRoomsRefusal } from "../identity/bot-rules.ts";
import {
  BotList,
  BOTS_PER_USER_MAX,
  CreateBot,
  UpdateBotScope,
  type ServiceScope,
} from "../protocol/index.ts";
import { mount } from "./service-accounts.ts";

/**
 * Bots: service accounts that registered users make for their own rooms (docs/integrations.md,
 * "Bots"), the same accounts, keys and routes (service-accounts.ts) as admins' services
 * (docs/service-keys.md). A user sees and touches only the bots they own: the object is asked
 * with their id, and someone else's bot answers `not_found`, as one that does not exist. A bot's
 * rooms must be rooms its owner owns when they give them (src/identity/bot-rules.ts), asked of
 * each room. Every change is recorded in the instance audit log with the owner as actor, as
 * admins' changes are.
 */
export const bots = router();

/** Registered users only: a guest's bots would outlive the guest; a bot may not breed bots. */
const registeredOnly = createMiddleware<AppEnv>(async (c, next) => {
  const { kind } = c.var.user;
  if (kind === "service") throw new ApiError("forbidden", "a service account cannot have bots");
  if (kind !== "user")
    throw new ApiError("forbidden", "bots are for registered users: guests cannot have them");
  await next();
});

/**
 * Refuses a scope that names a room the caller does not own now, asking each room for their
 * standing there (in parallel: at most 20 rooms, well under a request's subrequests).
 */
async function checkRooms(c: Context<AppEnv>, rooms: ServiceScope["rooms"]): Promise<void> {
  const named = rooms === "*" ? [] : [...new Set(rooms)];
  const standings = await Promise.all(
    named.map(
      async (room) => [room, await c.env.ROOM.getByName(room).standing(c.var.user)] as const,
    ),
  );
  const refusal = botRoomsRefusal(rooms, new Map(standings));
  if (refusal) throw ApiError.from(refusal);
}

mount({
  router: bots,
  base: "/api/bots",
  // Per route (not by path), so that the token is verified once: see `signedIn`.
  auth: { security: bearer, middleware: [authenticate, registeredOnly] },
  owner: (c) => c.var.user.id,
  kind: "bot",
  schemas: { list: BotList, create: CreateBot, update: UpdateBotScope },
  listed: (accounts) => ({ bots: accounts, max: BOTS_PER_USER_MAX }),
  checkRooms,
  words: {
    list: {
      summary: "Your bots, with their scopes and keys",
      description:
        "The service accounts you own, by name: each key with its status and when it was " +
        `created, expires, was revoked and last used. Never a secret. \`max\` is ${BOTS_PER_USER_MAX}.`,
      answer: "your bots",
    },
    create: {
      summary: "Make a bot and its first key",
      description:
        "The answer holds the key, `ecsk_<id>_<secret>`, this once: it is stored only as a " +
        'hash. The scope names rooms one by one (1 to 20, each a room you own now; never `"*"`), ' +
        "actions (those a moderator may take at most) and a role (member or moderator). A room " +
        "you do not own, may not see or that does not exist is 403, in the same words. " +
        `At most ${BOTS_PER_USER_MAX} bots per user (409 past it); the name is unique among ` +
        "service accounts (409). Guests and service keys get 403.",
    },
    one: "One of your bots",
    it: "your bot",
    key: "your bot's key",
    answer: "the bot",
    scopeChange:
      "The same rules as at creation: every room named must be one you own now (a room you have " +
      "handed over since must be left out). Takes effect at the next request; the bot's open " +
      "sockets close (4401) and reconnect under the new scope.",
  },
});
