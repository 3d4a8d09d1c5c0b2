import type { Context } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { settings, type AppEnv } from "./app-env.ts";
import { ApiError } from "./api-error.ts";

/** The worker's own origin and those named in ALLOWED_ORIGINS. */
export function isAllowedOrigin(c: Context<AppEnv>, origin: string): boolean {
  return origin === new URL(c.req.url).origin || settings(c).ALLOWED_ORIGINS.includes(origin);
}

/**
 * Refuses a request that a page of a foreign origin made on a user's behalf: a WebSocket
 * upgrade (cross-site WebSocket hijacking) or a cookie-authenticated call. Requests without an
 * Origin header come from non-browser clients, which hold their own tokens.
 */
export const sameOriginOnly = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  if (origin !== undefined && !isAllowedOrigin(c, origin)) {
    throw new ApiError("forbidden", "requests from this origin are not allowed");
  }
  await next();
});

/** CORS for the API: only allowed origins, with credentials for the refresh cookie. */
export const apiCors = cors({
  origin: (origin, c) => (isAllowedOrigin(c as Context<AppEnv>, origin) ? origin : null),
  credentials: true,
  allowHeaders: ["authorization", "content-type"],
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
  exposeHeaders: ["retry-after"],
  maxAge: 600,
});
