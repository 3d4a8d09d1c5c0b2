import type { Actor } from "./room/actor.ts";
import { ApiError } from "./http/api-error.ts";
import { parseConfig, type Config } from "./config.ts";

export type { Config } from "./config.ts";

const cache = new WeakMap<object, Config>();

/** The parsed config; a missing or weak secret is a clear 500 naming the variable, never a silent default. */
export function config(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    console.error(`edgechat: configuration error: ${parsed.problem}`);
    throw new ApiError("internal", "the server is not configured");
  }
  cache.set(env, parsed.config);
  return parsed.config;
}

/** Hono's type parameters for every router of the worker. */
export type AppEnv = { Bindings: Env; Variables: { user: Actor } };
