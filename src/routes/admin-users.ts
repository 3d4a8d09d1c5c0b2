import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { adminActionRefusal } from "../account/admin-rules.ts";
import { USER_INDEX_NAME } from "../account/user-index.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { bearer, errors, json, router } from "../http/openapi.ts";
import { accountKey } from "../identity/refresh-token.ts";
import {
  AdminUserDetail,
  AdminUserList,
  AdminUserParam,
  AdminUserQuery,
  BanUser,
  SessionsEnded,
  type AdminUserDetail as Detail,
  type AuditAction,
  type AuditData,
} from "../protocol/index.ts";
import { recordAudit } from "./audit-log.ts";

/**
 * Registered accounts for instance admins (docs/observability.md, "Administration"): found by
 * name prefix in the user index, and acted on through their Account object: end their
 * sessions, ban and unban them instance-wide, delete them. Mounted by admin.ts behind its
 * admins-only middleware; every action is recorded in the instance audit log.
 */
export const adminUsers = router();

type Ctx = Context<AppEnv>;

const PATH = "/api/admin/users";
const ONE = `${PATH}/{user}`;

const accountOf = (c: Ctx, name: string) => c.env.ACCOUNT.getByName(accountKey(name));

const notFound = (name: string) => new ApiError("not_found", `no account named ${name}`);

/** The account's detail, or the contract's not_found. */
async function detailOf(c: Ctx, name: string): Promise<Detail> {
  const detail = await accountOf(c, name).adminDetail(settings(c).ADMIN_USERNAMES);
  if (!detail) throw notFound(name);
  return detail;
}

function refuseOwn(c: Ctx, action: Parameters<typeof adminActionRefusal>[0], name: string) {
  const refusal = adminActionRefusal(action, c.var.user.name, name);
  if (refusal) throw ApiError.from(refusal);
}

function record(c: Ctx, action: AuditAction, user: { id: string; name: string }, data: AuditData) {
  recordAudit(c, {
    action,
    actor: c.var.user,
    target: { user: user.id },
    data: { name: user.name, ...data },
  });
}

adminUsers.openapi(
  createRoute({
    method: "get",
    path: PATH,
    summary: "Registered accounts by name prefix",
    description:
      "From the user index: accounts registered, or signed in, since the index exists. " +
      "Case-insensitive prefix, in name order; `after` is the previous page's `nextAfter`. " +
      "Guests have no account and are not listed.",
    security: bearer,
    request: { query: AdminUserQuery },
    responses: {
      200: json(AdminUserList, "a page of accounts"),
      ...errors("bad_request", "unauthorized", "forbidden"),
    },
  }),
  async (c) =>
    c.json(await c.env.USER_INDEX.getByName(USER_INDEX_NAME).search(c.req.valid("query")), 200),
);

adminUsers.openapi(
  createRoute({
    method: "get",
    path: ONE,
    summary: "One account: its ban and its open sessions",
    description: "Read from the account itself, so it is current even when the index lags.",
    security: bearer,
    request: { params: AdminUserParam },
    responses: {
      200: json(AdminUserDetail, "the account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => c.json(await detailOf(c, c.req.valid("param").user), 200),
);

adminUsers.openapi(
  createRoute({
    method: "delete",
    path: `${ONE}/sessions`,
    summary: "End every session of an account",
    description:
      "Its access tokens stop working at the next request and its WebSockets close with 4401 " +
      "in every room it used. The user may sign in again.",
    security: bearer,
    request: { params: AdminUserParam },
    responses: {
      200: json(SessionsEnded, "how many sessions ended, and the account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { user } = c.req.valid("param");
    const ended = await accountOf(c, user).endAllSessions();
    if (ended === undefined) throw notFound(user);
    const detail = await detailOf(c, user);
    record(c, "account.sessions_ended", detail, { sessions: ended });
    return c.json({ ended, user: detail }, 200);
  },
);

adminUsers.openapi(
  createRoute({
    method: "post",
    path: `${ONE}/ban`,
    summary: "Ban an account instance-wide",
    description:
      "Every session ends at once (sockets close with 4401 in every room the user used); sign-in " +
      "and refresh are refused with 403 `forbidden` until an admin lifts the ban. Admins cannot " +
      "ban themselves. The body and its reason are optional.",
    security: bearer,
    request: {
      params: AdminUserParam,
      body: { content: { "application/json": { schema: BanUser } }, required: false },
    },
    responses: {
      200: json(AdminUserDetail, "the account, banned"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { user } = c.req.valid("param");
    refuseOwn(c, "ban", user);
    const reason = c.req.valid("json")?.reason || null;
    const ended = await accountOf(c, user).ban(reason);
    if (ended === undefined) throw notFound(user);
    const detail = await detailOf(c, user);
    record(c, "account.banned", detail, { sessions: ended, reason });
    return c.json(detail, 200);
  },
);

adminUsers.openapi(
  createRoute({
    method: "post",
    path: `${ONE}/unban`,
    summary: "Lift an account's instance ban",
    description: "The user may sign in again; the sessions the ban ended stay ended.",
    security: bearer,
    request: { params: AdminUserParam },
    responses: {
      200: json(AdminUserDetail, "the account"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { user } = c.req.valid("param");
    if (!(await accountOf(c, user).unban())) throw notFound(user);
    const detail = await detailOf(c, user);
    record(c, "account.unbanned", detail, {});
    return c.json(detail, 200);
  },
);

adminUsers.openapi(
  createRoute({
    method: "delete",
    path: ONE,
    summary: "Delete an account",
    description:
      "As the user's own deletion, without the password: every session ends, the account is " +
      "forgotten and its name is free again. Messages it posted stay in their rooms' logs. " +
      "Admins delete their own account with `DELETE /api/auth/account`.",
    security: bearer,
    request: { params: AdminUserParam },
    responses: {
      204: { description: "deleted" },
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { user } = c.req.valid("param");
    refuseOwn(c, "delete", user);
    const deleted = await accountOf(c, user).adminDelete();
    if (!deleted) throw notFound(user);
    record(c, "account.deleted_by_admin", deleted, {});
    return c.body(null, 204);
  },
);
