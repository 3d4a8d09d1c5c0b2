import type { Context } from "hono";
import { parseConfig, type Config } from "../config.ts";
import type { Actor } from "../identity/actor.ts";
import type { RequestTelemetry } from "../telemetry/middleware.ts";
import { log } from "../telemetry/log.ts";
import { ApiError } from "./api-error.ts";

/**
 * Hono's type parameters for every router of the worker: the bindings, the verified user, and
 * the request's id and trace (src/telemetry/middleware.ts).
 */
export type AppEnv = { Bindings: Env; Variables: { user: Actor; telemetry: RequestTelemetry } };

/** The config for this request; a missing or weak secret is a clear 500, logged with its name. */
export function settings(c: Context<AppEnv>): Config {
  const parsed = parseConfig(c.env);
  if (parsed.ok) return parsed.config;
  log.error("configuration error", { problem: parsed.problem });
  throw new ApiError("internal", "the server is not configured");
}
