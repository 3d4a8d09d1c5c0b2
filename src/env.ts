import * as z from "zod";
import { ApiError } from "./http/api-error.ts";

/** Configuration from the environment (wrangler.toml vars, .dev.vars, secrets), parsed once. */
const Config = z.object({
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
});
export type Config = z.infer<typeof Config>;

const cache = new WeakMap<object, Config>();

/** The parsed config; a missing or weak secret is a clear 500 naming the variable, never a silent default. */
export function config(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    console.error(
      `edgechat: configuration error: ${problem}. Set it in .dev.vars locally or with \`wrangler secret put\`.`,
    );
    throw new ApiError("internal", "the server is not configured");
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

/** Hono's type parameters for every router of the worker. */
export type AppEnv = { Bindings: Env; Variables: { user: import("./protocol/index.ts").User } };
