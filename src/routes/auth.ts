import { countInIsolate } from "../metrics/isolate.ts";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Issued } from "../account/account.ts";
import { accountKey, parseRefreshToken } from "../identity/refresh-token.ts";
import { issueToken, newGuestId } from "../identity/access-token.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { clientAddress, spend } from "../http/limits.ts";
import { sameOriginOnly } from "../http/origin.ts";
import { recordAudit } from "./audit-log.ts";
import {
  ChangePassword,
  Credentials,
  DeleteAccount,
  GuestSignIn,
  RefreshRequest,
  Me,
  Session,
  type User,
} from "../protocol/index.ts";

/** The refresh cookie: HttpOnly (no script reads it), Secure, SameSite=Strict, only for /api/auth. */
export const REFRESH_COOKIE = "edgechat_refresh";

/** Everything under /api/auth: guest sign-in, accounts and their sessions (register, login, refresh, logout, password, delete, me). */
export const auth = router();
auth.use("/api/auth/refresh", sameOriginOnly);
auth.use("/api/auth/logout", sameOriginOnly);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/guest",
    summary: "Sign in as a guest",
    description:
      "A guest is a user of kind `guest` with a fresh id; names need not be unique. At most " +
      "LIMIT_GUESTS_PER_IP sign-ins per address per LIMIT_GUESTS_WINDOW_SECONDS (docs/limits.md).",
    request: jsonBody(GuestSignIn),
    responses: {
      200: json(Session, "a token for the new guest"),
      ...errors("bad_request", "too_large", "rate_limited"),
    },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const config = settings(c);
    await spend(
      c,
      `guests:${clientAddress(c)}`,
      { count: config.LIMIT_GUESTS_PER_IP, windowSeconds: config.LIMIT_GUESTS_WINDOW_SECONDS },
      "guest sign-ins from your address",
    );
    const user: User = { id: newGuestId(), name, kind: "guest" };
    const token = await issueToken(user, settings(c).JWT_SECRET);
    recordAudit(c, { action: "auth.guest_signed_in", actor: user });
    return c.json({ token, user }, 200);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/register",
    summary: "Register a username and password",
    description:
      "Usernames are unique case-insensitively. Browsers get the refresh token as an HttpOnly cookie; " +
      "clients that send no Origin header also get it in the body.",
    request: jsonBody(Credentials),
    responses: {
      201: json(Session, "the new user, signed in"),
      ...errors("bad_request", "conflict", "too_large", "rate_limited"),
    },
  }),
  async (c) => {
    await throttleByIp(c);
    const { username, password } = c.req.valid("json");
    const issued = unwrap(
      await c.env.ACCOUNT.getByName(accountKey(username)).register(username, password),
    );
    recordAudit(c, { action: "account.registered", actor: issued.user });
    return c.json(await signIn(c, issued), 201);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/login",
    summary: "Sign in with a username and password",
    description:
      "A wrong username and a wrong password get the same 401. Repeated failures get 429 with Retry-After, per account and per IP address.",
    request: jsonBody(Credentials),
    responses: {
      200: json(Session, "signed in"),
      ...errors("bad_request", "unauthorized", "too_large", "rate_limited"),
    },
  }),
  async (c) => {
    await throttleByIp(c);
    const { username, password } = c.req.valid("json");
    const result = await c.env.ACCOUNT.getByName(accountKey(username)).login(password);
    if (!result.ok) {
      if (result.error.code === "rate_limited")
        countInIsolate("auth_lockouts_total", { kind: "account" });
      else countInIsolate("auth_failures_total", { reason: "password" });
      // Nobody is proven: the entry names the username tried, with no id.
      recordAudit(c, {
        action: "auth.sign_in_failed",
        actor: { id: "", name: username },
        data: { reason: result.error.code === "rate_limited" ? "locked_out" : "bad_credentials" },
      });
    }
    const issued = unwrap(result);
    recordAudit(c, { action: "auth.signed_in", actor: issued.user });
    return c.json(await signIn(c, issued), 200);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/refresh",
    summary: "Trade a refresh token for a new access token (and a new refresh token)",
    description:
      "The refresh token comes from the HttpOnly cookie or the body's `refreshToken`. Each works once: " +
      "presenting an already rotated token ends the whole session.",
    request: {
      body: { content: { "application/json": { schema: RefreshRequest } }, required: false },
    },
    responses: {
      200: json(Session, "signed in again"),
      ...errors("bad_request", "unauthorized", "forbidden"),
    },
  }),
  async (c) => {
    const token = await refreshTokenOf(c);
    if (!token) throw new ApiError("unauthorized", "no refresh token");
    const result = await c.env.ACCOUNT.getByName(token.account).refresh(token.sid, token.secret);
    if (!result.ok) countInIsolate("auth_failures_total", { reason: "refresh" });
    return c.json(await signIn(c, unwrap(result)), 200);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/logout",
    summary: "End the session of a refresh token",
    description:
      "Its access tokens stop working and its WebSockets close with 4401 within seconds.",
    request: {
      body: { content: { "application/json": { schema: RefreshRequest } }, required: false },
    },
    responses: { 204: { description: "signed out" }, ...errors("bad_request", "forbidden") },
  }),
  async (c) => {
    const token = await refreshTokenOf(c);
    const ended =
      token && (await c.env.ACCOUNT.getByName(token.account).logout(token.sid, token.secret));
    if (ended) recordAudit(c, { action: "auth.signed_out", actor: ended });
    deleteCookie(c, REFRESH_COOKIE, { path: "/api/auth", secure: true });
    return c.body(null, 204);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/api/auth/password",
    summary: "Change the password",
    description:
      "Ends every session of the user (their sockets close with 4401) and opens a new one for this client.",
    ...signedIn,
    request: jsonBody(ChangePassword),
    responses: {
      200: json(Session, "signed in with the new password"),
      ...errors("bad_request", "unauthorized"),
    },
  }),
  async (c) => {
    const { currentPassword, newPassword } = c.req.valid("json");
    const issued = unwrap(await accountOf(c).changePassword(currentPassword, newPassword));
    recordAudit(c, { action: "account.password_changed", actor: issued.user });
    return c.json(await signIn(c, issued), 200);
  },
);

auth.openapi(
  createRoute({
    method: "delete",
    path: "/api/auth/account",
    summary: "Delete the account",
    description: "Needs the password. Ends every session; the username becomes free again.",
    ...signedIn,
    request: jsonBody(DeleteAccount),
    responses: { 204: { description: "deleted" }, ...errors("bad_request", "unauthorized") },
  }),
  async (c) => {
    unwrap(await accountOf(c).deleteAccount(c.req.valid("json").password));
    recordAudit(c, { action: "account.deleted", actor: c.var.user });
    deleteCookie(c, REFRESH_COOKIE, { path: "/api/auth", secure: true });
    return c.body(null, 204);
  },
);

auth.openapi(
  createRoute({
    method: "get",
    path: "/api/auth/me",
    summary: "Who the token belongs to",
    ...signedIn,
    responses: { 200: json(Me, "the signed-in user"), ...errors("unauthorized") },
  }),
  async (c) => {
    const { id, name, kind, admin } = c.var.user;
    return c.json({ id, name, kind: kind ?? "guest", admin: admin === true }, 200);
  },
);

type Ctx = Context<AppEnv>;

function accountOf(c: Ctx) {
  if (c.var.user.kind !== "user")
    throw new ApiError("forbidden", `${c.var.user.kind ?? "guest"}s have no user account`);
  return c.env.ACCOUNT.getByName(accountKey(c.var.user.name));
}

/** Issues the access token; the refresh token goes into the cookie, and into the body for non-browsers. */
async function signIn(c: Ctx, issued: Issued): Promise<Session> {
  const config = settings(c);
  const token = await issueToken(
    { ...issued.user, sid: issued.sid },
    config.JWT_SECRET,
    Date.now(),
    config.ACCESS_TOKEN_SECONDS,
  );
  setCookie(c, REFRESH_COOKIE, issued.refreshToken, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/api/auth",
    maxAge: config.REFRESH_TOKEN_SECONDS,
  });
  const browser = c.req.header("origin") !== undefined;
  return browser
    ? { token, user: issued.user }
    : { token, user: issued.user, refreshToken: issued.refreshToken };
}

async function refreshTokenOf(c: Ctx) {
  const fromBody = c.req.header("content-type")?.includes("application/json")
    ? RefreshRequest.safeParse(await c.req.json().catch(() => ({}))).data?.refreshToken
    : undefined;
  const text = fromBody ?? getCookie(c, REFRESH_COOKIE);
  return text === undefined ? undefined : parseRefreshToken(text);
}

/** Registration and password sign-in are limited per IP address, with growing blocks. */
async function throttleByIp(c: Ctx): Promise<void> {
  const config = settings(c);
  await spend(
    c,
    `ip:${clientAddress(c)}`,
    { count: config.AUTH_MAX_ATTEMPTS_PER_IP, windowSeconds: config.AUTH_WINDOW_SECONDS },
    "sign-in attempts",
  ).catch((error: unknown) => {
    countInIsolate("auth_lockouts_total", { kind: "ip" });
    throw error;
  });
}
