import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Actor } from "../identity/actor.ts";
import { accountKey } from "../identity/refresh-token.ts";
import { actorFromToken, type TokenCheck } from "../identity/verify-actor.ts";
import { keyDigest, SERVICE_ACCOUNTS_NAME, SERVICE_KEY_PREFIX } from "../identity/service-key.ts";
import { countInIsolate } from "../metrics/isolate.ts";
import type { Config } from "../config.ts";
import { settings, type AppEnv } from "./app-env.ts";
import {
  BEARER_PREFIX,
  chooseSubprotocol,
  GRAPHQL_SUBPROTOCOL,
  offeredSubprotocols,
} from "../protocol/index.ts";
import { ApiError } from "./api-error.ts";

/** The bearer token of a request: the Authorization header, or the WebSocket subprotocol for browsers. */
export function bearerToken(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) return /^Bearer ([^\s]+)$/i.exec(authorization)?.[1];
  const protocols = offeredSubprotocols(headers);
  if (!chooseSubprotocol(headers) && !protocols.includes(GRAPHQL_SUBPROTOCOL)) return undefined;
  return protocols.find((p) => p.startsWith(BEARER_PREFIX))?.slice(BEARER_PREFIX.length);
}

/**
 * Verifies the token at the edge, before any room is touched, and sets `user`. A registered
 * user's session is asked of their account on every request, so that signing out or changing
 * the password ends it at once; admins are named by configuration, never by the token.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const user = await actorOf(c);
  if (!user) throw new ApiError("unauthorized", "a bearer token is required");
  c.set("user", user);
  await next();
});

/**
 * The verified actor of a request, undefined when it carries no token; a token that does not
 * verify, or whose session has ended, is `unauthorized`, and so is a service key that is
 * unknown, revoked, expired or whose service is disabled. Shared by REST, GraphQL and RPC.
 */
export async function actorOf(c: Context<AppEnv>): Promise<Actor | undefined> {
  const token = bearerToken(c.req.raw.headers);
  if (!token) return undefined;
  const verified = await actorFromToken(token, tokenCheck(c.env, settings(c)));
  if (!verified.ok) {
    const reason = token.startsWith(SERVICE_KEY_PREFIX) ? "service_key" : "token";
    countInIsolate("auth_failures_total", { reason });
    throw ApiError.from(verified.error);
  }
  return verified.value;
}

/**
 * How tokens are checked on this instance: its secret, its admins, its accounts' sessions, and
 * its service accounts' keys (only the SHA-256 of a key's secret leaves the worker).
 */
export function tokenCheck(env: Env, config: Config): TokenCheck {
  return {
    secret: config.JWT_SECRET,
    admins: config.ADMIN_USERNAMES,
    sessionActive: (name, sid) => env.ACCOUNT.getByName(accountKey(name)).sessionActive(sid),
    service: async ({ keyId, secret }) =>
      env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME).verify(keyId, await keyDigest(secret)),
  };
}

/**
 * For a route's createRoute(): documents the bearer token and runs `authenticate` for that
 * route alone. Path middleware (`router.use("/api/rooms/*")`) would run for every router's
 * routes under the path once the routers are merged, verifying a token twice.
 */
export const signedIn = { security: [{ bearer: [] }], middleware: authenticate };
