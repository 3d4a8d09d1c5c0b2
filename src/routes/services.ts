import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.ts";
import { bearer, errors, json, jsonBody, parseOr400, router, unwrap } from "../http/openapi.ts";
import { SERVICE_ACCOUNTS_NAME } from "../identity/service-key.ts";
import {
  CreateService,
  IssuedKey,
  RotateKey,
  ServiceAccount,
  ServiceKeyParam,
  ServiceList,
  ServiceParam,
  UpdateScope,
  type AuditAction,
  type ServiceScope,
  type AuditData,
} from "../protocol/index.ts";
import { recordAudit } from "./audit-log.ts";

/**
 * Service accounts and their API keys, for instance admins (docs/service-keys.md). Mounted by
 * admin.ts behind its admins-only middleware. Every change is recorded in the instance audit
 * log with the admin as its actor; no secret and no hash is ever in an answer but the one that
 * creates a key, nor in the log. Users manage their own bots, the same accounts, at bots.ts.
 */
export const services = router();

/** The instance's ServiceAccounts object. */
export const serviceAccounts = (c: Context<AppEnv>) =>
  c.env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME);
const accounts = serviceAccounts;

/**
 * Records a change to service `service` by the caller, an admin or the bot's owner (its id and
 * name; a key's id in `data`).
 */
export function recordServiceChange(
  c: Context<AppEnv>,
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

const PATH = "/api/admin/services";
const ONE = `${PATH}/{service}`;
const KEYS = `${ONE}/keys`;

services.openapi(
  createRoute({
    method: "get",
    path: PATH,
    summary: "The service accounts, with their scopes and keys",
    description:
      "Each key with its id, status, and when it was created, expires, was revoked and last used " +
      "(written at most once a minute). Never a secret or its hash.",
    security: bearer,
    responses: {
      200: json(ServiceList, "the service accounts, by name"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => c.json({ services: await accounts(c).list() }, 200),
);

services.openapi(
  createRoute({
    method: "post",
    path: PATH,
    summary: "Create a service account and its first key",
    description:
      "The answer holds the key, `ecsk_<id>_<secret>`, this once: it is stored only as a hash. " +
      'The scope names rooms (or `"*"`), actions (those a moderator may take at most) and a role ' +
      "(member or moderator).",
    security: bearer,
    request: jsonBody(CreateService),
    responses: {
      201: json(IssuedKey, "created; the key is shown this once"),
      ...errors("bad_request", "unauthorized", "forbidden", "conflict"),
    },
  }),
  async (c) => {
    const issued = unwrap(await accounts(c).create(c.req.valid("json"), c.var.user));
    recordServiceChange(c, "service.created", issued.service, { key: issued.key.id });
    return c.json(issued, 201);
  },
);

services.openapi(
  createRoute({
    method: "get",
    path: ONE,
    summary: "One service account",
    security: bearer,
    request: { params: ServiceParam },
    responses: {
      200: json(ServiceAccount, "the service account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => c.json(unwrap(await accounts(c).get(c.req.valid("param").service)), 200),
);

services.openapi(
  createRoute({
    method: "patch",
    path: ONE,
    summary: "Change a service account's scope",
    description:
      "Takes effect at the next request; the service's open sockets close (4401) and reconnect " +
      "under the new scope.",
    security: bearer,
    request: { params: ServiceParam, ...jsonBody(UpdateScope) },
    responses: {
      200: json(ServiceAccount, "the service account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { scope } = c.req.valid("json");
    const service = unwrap(await accounts(c).setScope(c.req.valid("param").service, scope));
    recordServiceChange(c, "service.scope_changed", service, scopeData(scope));
    return c.json(service, 200);
  },
);

for (const disabled of [true, false]) {
  services.openapi(
    createRoute({
      method: "post",
      path: `${ONE}/${disabled ? "disable" : "enable"}`,
      summary: disabled
        ? "Disable a service account: all its keys stop at once"
        : "Enable a service account again: its usable keys work again",
      security: bearer,
      request: { params: ServiceParam },
      responses: {
        200: json(ServiceAccount, "the service account"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const service = unwrap(await accounts(c).setDisabled(c.req.valid("param").service, disabled));
      recordServiceChange(c, disabled ? "service.disabled" : "service.enabled", service);
      return c.json(service, 200);
    },
  );
}

services.openapi(
  createRoute({
    method: "post",
    path: KEYS,
    summary: "Add a key to a service account",
    description: "Beside its other keys (at most 10 usable at once). The key is shown this once.",
    security: bearer,
    request: { params: ServiceParam },
    responses: {
      201: json(IssuedKey, "created; the key is shown this once"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const issued = unwrap(await accounts(c).addKey(c.req.valid("param").service));
    recordServiceChange(c, "service.key_created", issued.service, { key: issued.key.id });
    return c.json(issued, 201);
  },
);

services.openapi(
  createRoute({
    method: "post",
    path: `${KEYS}/{key}/rotate`,
    summary: "Rotate a key: a new one, and the old one until the overlap ends",
    description:
      "The old key keeps working for `overlapSeconds` (default 86400, at most 30 days; never " +
      "longer than it already would), then stops, and its sockets close. The body is optional.",
    security: bearer,
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
    const issued = unwrap(await accounts(c).rotateKey(service, key, overlapSeconds));
    recordServiceChange(c, "service.key_rotated", issued.service, {
      key,
      newKey: issued.key.id,
      overlapSeconds,
    });
    return c.json(issued, 201);
  },
);

services.openapi(
  createRoute({
    method: "delete",
    path: `${KEYS}/{key}`,
    summary: "Revoke a key, at once",
    description: "The next request with it is refused with 401, and its open sockets close (4401).",
    security: bearer,
    request: { params: ServiceKeyParam },
    responses: {
      200: json(ServiceAccount, "the service account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { service, key } = c.req.valid("param");
    const account = unwrap(await accounts(c).revokeKey(service, key));
    recordServiceChange(c, "service.key_revoked", account, { key });
    return c.json(account, 200);
  },
);

services.openapi(
  createRoute({
    method: "delete",
    path: ONE,
    summary: "Delete a service account",
    description:
      "Every key of it stops at once (401, as an unknown key) and its open sockets close (4401). " +
      "Its name becomes free; what it posted stays, under its id and name.",
    security: bearer,
    request: { params: ServiceParam },
    responses: {
      204: { description: "deleted" },
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const deleted = unwrap(await accounts(c).delete(c.req.valid("param").service));
    recordServiceChange(c, "service.deleted", deleted);
    return c.body(null, 204);
  },
);
