import * as z from "zod";
import { ApiError } from "./http/api-error.ts";
import type { Actor } from "./room/actor.ts";

const list = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Configuration from the environment (wrangler.toml vars, .dev.vars, secrets), parsed once. */
const Config = z.object({
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  /** "production" makes a missing secret fail the worker at start instead of at first use. */
  ENVIRONMENT: z.string().default("development"),
  /** Registered usernames (case-insensitive) who may act on any room. */
  ADMIN_USERNAMES: list.transform((names) => names.map((name) => name.toLowerCase())),
  /** Origins besides the worker's own that may call the API and open WebSockets. */
  ALLOWED_ORIGINS: list,
  /** Wrong passwords per account, and attempts per IP, within AUTH_WINDOW_SECONDS. */
  AUTH_WINDOW_SECONDS: seconds(300),
  AUTH_MAX_FAILURES: seconds(5),
  AUTH_MAX_ATTEMPTS_PER_IP: seconds(30),
  ACCESS_TOKEN_SECONDS: seconds(15 * 60),
  REFRESH_TOKEN_SECONDS: seconds(30 * 24 * 60 * 60),
});
export type Config = z.infer<typeof Config>;

const cache = new WeakMap<object, Config>();

/** The parsed config; a missing or weak secret is a clear 500 naming the variable, never a silent default. */
export function config(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    console.error(`edgechat: configuration error: ${describe(parsed.error)}`);
    throw new ApiError("internal", "the server is not configured");
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

/**
 * Called once when the worker starts: in production a missing or weak secret stops the worker
 * with a message that names it, rather than failing request by request.
 */
export function assertConfigured(env: Partial<Env> & { ENVIRONMENT?: string }): void {
  if (env.ENVIRONMENT !== "production") return;
  const parsed = Config.safeParse(env);
  if (!parsed.success) throw new Error(`edgechat: configuration error: ${describe(parsed.error)}`);
}

function describe(error: z.ZodError): string {
  const problems = error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  return `${problems}. Set it in .dev.vars locally or with \`wrangler secret put\`.`;
}

/** Hono's type parameters for every router of the worker. */
export type AppEnv = { Bindings: Env; Variables: { user: Actor } };
