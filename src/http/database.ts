import type { Context } from "hono";
import { useLocalProxy } from "../db/connect.ts";
import { ReadRouter } from "../db/replicas.ts";
import { config, type AppEnv } from "../env.ts";
import { ApiError } from "./api-error.ts";

/**
 * The read router for this request, or 503 `unavailable` when the chat runs without Postgres
 * (the embedded default): everything else keeps working.
 */
export function readRouter(c: Context<AppEnv>): ReadRouter {
  const settings = config(c.env);
  if (!settings.DATABASE_URL) {
    throw new ApiError(
      "unavailable",
      "this server runs without Postgres: search and activity figures are off",
    );
  }
  useLocalProxy(settings.PG_WS_PROXY);
  return new ReadRouter(
    settings.DATABASE_URL,
    settings.DATABASE_REPLICA_URLS,
    settings.REPLICA_MAX_LAG_MS,
  );
}

/** A database that failed every node becomes a clear 503, not a 500. */
export async function orUnavailable<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    console.warn("edgechat: database read failed on every node", error);
    throw new ApiError("unavailable", "the database is unreachable: try again shortly");
  }
}
