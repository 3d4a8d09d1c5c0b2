import type { Context } from "hono";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * Where a request comes from: `CF-Connecting-IP`, which Cloudflare's edge sets to the address
 * that connected to it and a client cannot forge there. `wrangler dev` passes on whatever the
 * client sent and sets nothing itself, so locally every client without the header shares the
 * address "local", and a client may claim any address (docs/limits.md).
 */
export function clientAddress(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip")?.trim() || "local";
}

/**
 * Counts one attempt against `key` (one Throttle object per key): `limit` per window, then
 * `rate_limited` with Retry-After for a window, twice as long each time the abuse goes on.
 */
export async function spend(
  c: Context<AppEnv>,
  key: string,
  limit: { count: number; windowSeconds: number },
  what: string,
): Promise<void> {
  const wait = await c.env.THROTTLE.getByName(key).attempt(limit.count, limit.windowSeconds);
  if (wait > 0)
    throw new ApiError("rate_limited", `too many ${what}: try again in ${wait} s`, {
      retryAfter: wait,
    });
}
