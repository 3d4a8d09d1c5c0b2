import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { authenticate } from "../http/authenticate.ts";
import { bearer, errors, json, jsonBody, parseOr400, router, unwrap } from "../http/openapi.ts";
import { botRoomsRefusal } from "../identity/bot-rules.ts";
import {
  BotList,
  BOTS_PER_USER_MAX,
  CreateBot,
  IssuedKey,
  RotateKey,
  ServiceAccount,
  ServiceKeyParam,
  ServiceParam,
  UpdateBotScope,
  type ServiceScope,
} from "../protocol/index.ts";
import { recordServiceChange, scopeData, serviceAccounts } from "./services.ts";

/**
 * Bots: service accounts that registered users make for their own rooms (docs/integrations.md,
 * "Bots"), the same accounts and keys as admins' services (docs/service-keys.md). A user sees
 * and touches only the bots they own: the object is asked with their id, and someone else's
 * bot answers `not_found`, as one that does not exist. A bot's rooms must be rooms its owner
 * owns when they give them (src/identity/bot-rules.ts), asked of each room. Every change is
 * recorded in the instance audit log with the owner as actor, as admins' changes are.
 */
export const bots = router();

type Ctx = Context<AppEnv>;

/** Registered users only: a guest's bots would outlive the guest; a bot may not breed bots. */
const registeredOnly = createMiddleware<AppEnv>(async (c, next) => {
  const { kind } = c.var.user;
  if (kind === "service") throw new ApiError("forbidden", "a service account cannot have bots");
  if (kind !== "user")
    throw new ApiError("forbidden", "bots are for registered users: guests cannot have them");
  await next();
});

/** Per route (not by path), so that the token is verified once: see `signedIn`. */
const owners = { security: bearer, middleware: [authenticate, registeredOnly] };

const PATH = "/api/bots";
const ONE = `${PATH}/{service}`;
const KEYS = `${ONE}/keys`;

/** The caller, as the owner the object is asked for. */
const ownerId = (c: Ctx) => c.var.user.id;

/**
 * Refuses a scope that names a room the caller does not own now, asking each room for their
 * standing there (in parallel: at most 20 rooms, well under a request's subrequests).
 */
async function checkRooms(c: Ctx, rooms: ServiceScope["rooms"]): Promise<void> {
  const named = rooms === "*" ? [] : [...new Set(rooms)];
  const standings = await Promise.all(
    named.map(
      async (room) => [room, await c.env.ROOM.getByName(room).standing(c.var.user)] as const,
    ),
  );
  const refusal = botRoomsRefusal(rooms, new Map(standings));
  if (refusal) throw ApiError.from(refusal);
}

const one = { params: ServiceParam };
const theBot = json(ServiceAccount, "the bot");
const keyShownOnce = json(IssuedKey, "created; the key is shown this once");

bots.openapi(
  createRoute({
    method: "get",
    path: PATH,
    summary: "Your bots, with their scopes and keys",
    description:
      "The service accounts you own, by name: each key with its status and when it was created, " +
      `expires, was revoked and last used. Never a secret. \`max\` is ${BOTS_PER_USER_MAX}.`,
    ...owners,
    responses: { 200: json(BotList, "your bots"), ...errors("unauthorized", "forbidden") },
  }),
  async (c) =>
    c.json({ bots: await serviceAccounts(c).list(ownerId(c)), max: BOTS_PER_USER_MAX }, 200),
);

bots.openapi(
  createRoute({
    method: "post",
    path: PATH,
    summary: "Make a bot and its first key",
    description:
      "The answer holds the key, `ecsk_<id>_<secret>`, this once: it is stored only as a hash. " +
      'The scope names rooms one by one (1 to 20, each a room you own now; never `"*"`), ' +
      "actions (those a moderator may take at most) and a role (member or moderator). A room " +
      "you do not own, may not see or that does not exist is 403, in the same words. " +
      `At most ${BOTS_PER_USER_MAX} bots per user (409 past it); the name is unique among ` +
      "service accounts (409). Guests and service keys get 403.",
    ...owners,
    request: jsonBody(CreateBot),
    responses: {
      201: keyShownOnce,
      ...errors("bad_request", "unauthorized", "forbidden", "conflict"),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    await checkRooms(c, input.scope.rooms);
    const { id, name } = c.var.user;
    const issued = unwrap(await serviceAccounts(c).create(input, { id, name }, "bot"));
    recordServiceChange(c, "service.created", issued.service, { key: issued.key.id });
    return c.json(issued, 201);
  },
);

bots.openapi(
  createRoute({
    method: "get",
    path: ONE,
    summary: "One of your bots",
    ...owners,
    request: one,
    responses: {
      200: theBot,
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) =>
    c.json(unwrap(await serviceAccounts(c).get(c.req.valid("param").service, ownerId(c))), 200),
);

bots.openapi(
  createRoute({
    method: "patch",
    path: ONE,
    summary: "Change your bot's scope",
    description:
      "The same rules as at creation: every room named must be one you own now (a room you have " +
      "handed over since must be left out). Takes effect at the next request; the bot's open " +
      "sockets close (4401) and reconnect under the new scope.",
    ...owners,
    request: { ...one, ...jsonBody(UpdateBotScope) },
    responses: {
      200: theBot,
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { service } = c.req.valid("param");
    const { scope } = c.req.valid("json");
    // Someone else's bot is not found before any room is asked about.
    unwrap(await serviceAccounts(c).get(service, ownerId(c)));
    await checkRooms(c, scope.rooms);
    const bot = unwrap(await serviceAccounts(c).setScope(service, scope, ownerId(c)));
    recordServiceChange(c, "service.scope_changed", bot, scopeData(scope));
    return c.json(bot, 200);
  },
);

for (const disabled of [true, false]) {
  bots.openapi(
    createRoute({
      method: "post",
      path: `${ONE}/${disabled ? "disable" : "enable"}`,
      summary: disabled
        ? "Disable your bot: all its keys stop at once"
        : "Enable your bot again: its usable keys work again",
      ...owners,
      request: one,
      responses: {
        200: theBot,
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const bot = unwrap(await serviceAccounts(c).setDisabled(service, disabled, ownerId(c)));
      recordServiceChange(c, disabled ? "service.disabled" : "service.enabled", bot);
      return c.json(bot, 200);
    },
  );
}

bots.openapi(
  createRoute({
    method: "post",
    path: KEYS,
    summary: "Add a key to your bot",
    description: "Beside its other keys (at most 10 usable at once). The key is shown this once.",
    ...owners,
    request: one,
    responses: {
      201: keyShownOnce,
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const issued = unwrap(
      await serviceAccounts(c).addKey(c.req.valid("param").service, ownerId(c)),
    );
    recordServiceChange(c, "service.key_created", issued.service, { key: issued.key.id });
    return c.json(issued, 201);
  },
);

bots.openapi(
  createRoute({
    method: "post",
    path: `${KEYS}/{key}/rotate`,
    summary: "Rotate your bot's key: a new one, and the old one until the overlap ends",
    description:
      "The old key keeps working for `overlapSeconds` (default 86400, at most 30 days; never " +
      "longer than it already would), then stops, and its sockets close. The body is optional.",
    ...owners,
    request: {
      params: ServiceKeyParam,
      body: { content: { "application/json": { schema: RotateKey } }, required: false },
    },
    responses: {
      201: json(IssuedKey, "the new key, shown this once; the old one's expiry in `service`"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { service, key } = c.req.valid("param");
    // Without a body (it is optional) the router validated nothing: the defaults, checked here.
    const { overlapSeconds } = parseOr400(RotateKey, c.req.valid("json") ?? {});
    const issued = unwrap(
      await serviceAccounts(c).rotateKey(service, key, overlapSeconds, ownerId(c)),
    );
    recordServiceChange(c, "service.key_rotated", issued.service, {
      key,
      newKey: issued.key.id,
      overlapSeconds,
    });
    return c.json(issued, 201);
  },
);

bots.openapi(
  createRoute({
    method: "delete",
    path: `${KEYS}/{key}`,
    summary: "Revoke your bot's key, at once",
    description: "The next request with it is refused with 401, and its open sockets close (4401).",
    ...owners,
    request: { params: ServiceKeyParam },
    responses: {
      200: theBot,
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { service, key } = c.req.valid("param");
    const bot = unwrap(await serviceAccounts(c).revokeKey(service, key, ownerId(c)));
    recordServiceChange(c, "service.key_revoked", bot, { key });
    return c.json(bot, 200);
  },
);

bots.openapi(
  createRoute({
    method: "delete",
    path: ONE,
    summary: "Delete your bot",
    description:
      "Every key of it stops at once (401, as an unknown key) and its open sockets close (4401). " +
      "Its name becomes free; what it posted stays, under its id and name.",
    ...owners,
    request: one,
    responses: {
      204: { description: "deleted" },
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const deleted = unwrap(
      await serviceAccounts(c).delete(c.req.valid("param").service, ownerId(c)),
    );
    recordServiceChange(c, "service.deleted", deleted);
    return c.body(null, 204);
  },
);
