import { createMiddleware } from "hono/factory";
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

/** Verifies the token at the edge, before any Durable Object is touched; sets `user`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.raw.headers);
  const user = token ? await verifyToken(token, config(c.env).JWT_SECRET) : undefined;
  if (!user)
    throw new ApiError(
      "unauthorized",
      token ? "the token is invalid or expired" : "a bearer token is required",
    );
  c.set("user", user);
  await next();
});
