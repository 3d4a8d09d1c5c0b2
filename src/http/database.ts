import type { Context } from "hono";
import type { ReadRouter } from "../db/replicas.ts";
import { readRouterOf } from "../db/postgres.ts";
import { settings, type AppEnv } from "./app-env.ts";
import { ApiError } from "./api-error.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * The read router for this request, or 503 `unavailable` when the chat runs without Postgres
 * (the embedded default): everything else keeps working.
 */
export function readRouter(c: Context<AppEnv>): ReadRouter {
  const router = readRouterOf(settings(c), c.var.telemetry?.scope);
  if (router) return router;
  throw new ApiError(
    "unavailable",
    "this server runs without Postgres: search and activity figures are off",
  );
}

/** A database that failed every node becomes a clear 503, not a 500. */
export async function orUnavailable<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    log.warn("database read failed on every node", { error: errorFields(error) });
    throw new ApiError("unavailable", "the database is unreachable: try again shortly");
  }
}

/** The header that says which database node served a read. */
export const SERVED_BY = "x-edgechat-served-by";

/** "primary" or "replica-N", never a connection string. */
export function servedByLabel(c: Context<AppEnv>, url: string): string {
  const index = settings(c).DATABASE_REPLICA_URLS.indexOf(url);
  return index >= 0 ? `replica-${index + 1}` : "primary";
}
