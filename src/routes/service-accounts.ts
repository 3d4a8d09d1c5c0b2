import { createRoute, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env.ts";
import { bearer, errors, json, jsonBody, parseOr400, router, unwrap } from "../http/openapi.ts";
import { SERVICE_ACCOUNTS_NAME } from "../identity/service-key.ts";
import {
  IssuedKey,
  RotateKey,
  ServiceAccount,
  ServiceKeyParam,
  ServiceParam,
  type AuditAction,
  type AuditData,
  type BotList,
  type CreateService,
  type ServiceList,
  type ServiceScope,
} from "../protocol/index.ts";
import { recordAudit } from "./audit-log.ts";

/**
 * The routes of service accounts and their API keys, one set for two audiences: instance admins
 * at `/api/admin/services` (services.ts, every account) and registered users at `/api/bots`
 * (bots.ts, the bots they own), as webhooks.ts serves a room's and the instance's webhooks.
 * Each mounts them with what differs passed in: the path, who may call, whose accounts the
 * ServiceAccounts object is asked for, the bots' room rule and the words users read. Every change
 * is recorded in the instance audit log with the caller as its actor; no secret and no hash is
 * ever in an answer but the one that creates a key, nor in the log.
 */

type Ctx = Context<AppEnv>;

/** The instance's ServiceAccounts object. */
export const serviceAccounts = (c: Ctx) => c.env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME);

/**
 * Records a change to service `service` by the caller, an admin or the bot's owner (its id and
 * name; a key's id in `data`).
 */
export function recordServiceChange(
  c: Ctx,
  action: AuditAction,
  service: ServiceAccount,
  data: AuditData = {},
): void {
  recordAudit(c, {
    action,
    actor: c.var.user,
    target: { user: service.id },
    data: { service: service.name, ...data },
  });
}

/** A scope as the audit log's flat `data`. */
export const scopeData = (scope: ServiceScope): AuditData => ({
  rooms: scope.rooms === "*" ? "*" : scope.rooms.join(","),
  actions: scope.actions.join(","),
  role: scope.role,
});

/** What the OpenAPI document says to one audience, where the two differ. */
type Wording = {
  list: { summary: string; description: string; answer: string };
  create: { summary: string; description: string };
  /** The summary of the route that reads one account. */
  one: string;
  /** The account a route acts on: "a service account", "your bot". */
  it: string;
  /** A key of it, as rotate's and revoke's summaries name it. */
  key: string;
  /** What an answer of one account is. */
  answer: string;
  /** The description of a scope change. */
  scopeChange: string;
};

/**
 * One audience's mount, with the request and answer schemas that differ: a bot's scope names
 * rooms one by one; the bots' list says how many a user may have.
 */
export type Audience = {
  router: ReturnType<typeof router>;
  base: string;
  /** Per route: the bearer scheme, and the middleware that lets the caller in, if any. */
  auth: { security: typeof bearer; middleware?: MiddlewareHandler<AppEnv>[] };
  /** Whose accounts the object is asked for: the caller's id, or every account (`undefined`). */
  owner: (c: Ctx) => string | undefined;
  /** What an account made here is: a bot counts against its owner's cap. */
  kind: "service" | "bot";
  schemas: {
    list: z.ZodType<ListAnswer>;
    create: z.ZodType<CreateService>;
    update: z.ZodType<{ scope: ServiceScope }>;
  };
  /** The list's answer, from the accounts asked for. */
  listed: (accounts: ServiceAccount[]) => ListAnswer;
  /** Refuses a scope's rooms that this caller may not give (thrown), at creation and change. */
  checkRooms?: (c: Ctx, rooms: ServiceScope["rooms"]) => Promise<void>;
  words: Wording;
};

type ListAnswer = z.infer<typeof ServiceList> | BotList;

export function mount(audience: Audience): void {
  const { router: r, base, auth, owner, words } = audience;
  const path = { one: `${base}/{service}`, keys: `${base}/{service}/keys` };
  const one = { params: ServiceParam };
  const theAccount = json(ServiceAccount, words.answer);
  const keyShownOnce = json(IssuedKey, "created; the key is shown this once");

  r.openapi(
    createRoute({
      method: "get",
      path: base,
      summary: words.list.summary,
      description: words.list.description,
      ...auth,
      responses: {
        200: json(audience.schemas.list, words.list.answer),
        ...errors("unauthorized", "forbidden"),
      },
    }),
    async (c) => c.json(audience.listed(await serviceAccounts(c).list(owner(c))), 200),
  );

  r.openapi(
    createRoute({
      method: "post",
      path: base,
      summary: words.create.summary,
      description: words.create.description,
      ...auth,
      request: jsonBody(audience.schemas.create),
      responses: {
        201: keyShownOnce,
        ...errors("bad_request", "unauthorized", "forbidden", "conflict"),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      await audience.checkRooms?.(c, input.scope.rooms);
      const { id, name } = c.var.user;
      const issued = unwrap(await serviceAccounts(c).create(input, { id, name }, audience.kind));
      recordServiceChange(c, "service.created", issued.service, { key: issued.key.id });
      return c.json(issued, 201);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: path.one,
      summary: words.one,
      ...auth,
      request: one,
      responses: {
        200: theAccount,
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) =>
      c.json(unwrap(await serviceAccounts(c).get(c.req.valid("param").service, owner(c))), 200),
  );

  r.openapi(
    createRoute({
      method: "patch",
      path: path.one,
      summary: `Change ${words.it}'s scope`,
      description: words.scopeChange,
      ...auth,
      request: { ...one, ...jsonBody(audience.schemas.update) },
      responses: {
        200: theAccount,
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const { scope } = c.req.valid("json");
      if (audience.checkRooms) {
        // Someone else's account is not found before any room is asked about.
        unwrap(await serviceAccounts(c).get(service, owner(c)));
        await audience.checkRooms(c, scope.rooms);
      }
      const account = unwrap(await serviceAccounts(c).setScope(service, scope, owner(c)));
      recordServiceChange(c, "service.scope_changed", account, scopeData(scope));
      return c.json(account, 200);
    },
  );

  for (const disabled of [true, false]) {
    r.openapi(
      createRoute({
        method: "post",
        path: `${path.one}/${disabled ? "disable" : "enable"}`,
        summary: disabled
          ? `Disable ${words.it}: all its keys stop at once`
          : `Enable ${words.it} again: its usable keys work again`,
        ...auth,
        request: one,
        responses: {
          200: theAccount,
          ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
        },
      }),
      async (c) => {
        const { service } = c.req.valid("param");
        const account = unwrap(await serviceAccounts(c).setDisabled(service, disabled, owner(c)));
        recordServiceChange(c, disabled ? "service.disabled" : "service.enabled", account);
        return c.json(account, 200);
      },
    );
  }

  r.openapi(
    createRoute({
      method: "post",
      path: path.keys,
      summary: `Add a key to ${words.it}`,
      description: "Beside its other keys (at most 10 usable at once). The key is shown this once.",
      ...auth,
      request: one,
      responses: {
        201: keyShownOnce,
        ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const issued = unwrap(await serviceAccounts(c).addKey(service, owner(c)));
      recordServiceChange(c, "service.key_created", issued.service, { key: issued.key.id });
      return c.json(issued, 201);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: `${path.keys}/{key}/rotate`,
      summary: `Rotate ${words.key}: a new one, and the old one until the overlap ends`,
      description:
        "The old key keeps working for `overlapSeconds` (default 86400, at most 30 days; never " +
        "longer than it already would), then stops, and its sockets close. The body is optional.",
      ...auth,
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
        await serviceAccounts(c).rotateKey(service, key, overlapSeconds, owner(c)),
      );
      recordServiceChange(c, "service.key_rotated", issued.service, {
        key,
        newKey: issued.key.id,
        overlapSeconds,
      });
      return c.json(issued, 201);
    },
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: `${path.keys}/{key}`,
      summary: `Revoke ${words.key}, at once`,
      description:
        "The next request with it is refused with 401, and its open sockets close (4401).",
      ...auth,
      request: { params: ServiceKeyParam },
      responses: {
        200: theAccount,
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { service, key } = c.req.valid("param");
      const account = unwrap(await serviceAccounts(c).revokeKey(service, key, owner(c)));
      recordServiceChange(c, "service.key_revoked", account, { key });
      return c.json(account, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: path.one,
      summary: `Delete ${words.it}`,
      description:
        "Every key of it stops at once (401, as an unknown key) and its open sockets close (4401). " +
        "Its name becomes free; what it posted stays, under its id and name.",
      ...auth,
      request: one,
      responses: {
        204: { description: "deleted" },
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const deleted = unwrap(await serviceAccounts(c).delete(service, owner(c)));
      recordServiceChange(c, "service.deleted", deleted);
      return c.body(null, 204);
    },
  );
}
