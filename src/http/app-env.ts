import type { Context } from "hono";
import { parseConfig, type Config } from "../config.ts";
import type { Actor } from "../identity/actor.ts";
import { ApiError } from "./api-error.ts";

/** Hono's type parameters for every router of the worker: the bindings and the verified user. */
export type AppEnv = { Bindings: Env; Variables: { user: Actor } };

/** The config for this request; a missing or weak secret is a clear 500, logged with its name. */
export function settings(c: Context<AppEnv>): Config {
  const parsed = parseConfig(c.env);
  if (parsed.ok) return parsed.config;
  console.error(`edgechat: configuration error: ${parsed.problem}`);
  throw new ApiError("internal", "the server is not configured");
}
