import { createMiddleware } from "hono/factory";
import { accountKey } from "../account/tokens.ts";
import { verifyToken } from "../auth/token.ts";
import { config, type AppEnv } from "../env.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../protocol/index.ts";
import { ApiError } from "./api-error.ts";

/** The bearer token of a request: the Authorization header, or the WebSocket subprotocol for browsers. */
export function bearerToken(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) return /^Bearer ([^\s]+)$/i.exec(authorization)?.[1];
  const protocols = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  if (!protocols.includes(SUBPROTOCOL)) return undefined;
  return protocols.find((p) => p.startsWith(BEARER_PREFIX))?.slice(BEARER_PREFIX.length);
}

/**
 * Verifies the token at the edge, before any room is touched, and sets `user`. A registered
 * user's session is asked of their account on every request, so that signing out or changing
 * the password ends it at once; admins are named by configuration, never by the token.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const settings = config(c.env);
  const token = bearerToken(c.req.raw.headers);
  const user = token ? await verifyToken(token, settings.JWT_SECRET) : undefined;
  if (!user) {
    throw new ApiError(
      "unauthorized",
      token ? "the token is invalid or expired" : "a bearer token is required",
    );
  }
  if (user.kind === "user") {
    const active = await c.env.ACCOUNT.getByName(accountKey(user.name)).sessionActive(
      user.sid ?? "",
    );
    if (!active) throw new ApiError("unauthorized", "the session has ended: sign in again");
  }
  const admin = user.kind === "user" && settings.ADMIN_USERNAMES.includes(accountKey(user.name));
  c.set("user", admin ? { ...user, admin } : user);
  await next();
});
