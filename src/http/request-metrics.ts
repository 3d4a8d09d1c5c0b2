import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { metricsConfig } from "../config.ts";
import { countInIsolate, observeInIsolate, shipSoon } from "../metrics/isolate.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * Counts every request by its matched route (the pattern, never the path: a room's name is not
 * a label), method and status, times it, and counts error answers by the contract's code; the
 * isolate's counts are pushed a second later (src/metrics/isolate.ts).
 */
export const requestMetrics = createMiddleware<AppEnv>(async (c, next) => {
  if (!metricsConfig(c.env).METRICS_ENABLED) return next();
  const started = Date.now();
  await next();
  const route = routePath(c) || "unmatched";
  const method = c.req.method;
  countInIsolate("http_requests_total", { route, method, status: String(c.res.status) });
  observeInIsolate(
    "http_request_duration_seconds",
    { route, method },
    (Date.now() - started) / 1000,
  );
  if (c.res.status >= 400) countInIsolate("api_errors_total", { code: await errorCode(c.res) });
  waitUntil(c, shipSoon(c.env));
});

/** The contract's code in an error body (`{"error": {"code"}}`), or `http_<status>`. */
async function errorCode(response: Response): Promise<string> {
  const fallback = `http_${response.status}`;
  if (!response.headers.get("content-type")?.includes("json")) return fallback;
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    const code = body.error?.code;
    return typeof code === "string" && /^[a-z_]{1,40}$/.test(code) ? code : fallback;
  } catch {
    return fallback;
  }
}

/** The request's waitUntil; a test's `app.request()` has none, and then the push just runs. */
function waitUntil(c: Context<AppEnv>, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work;
  }
}
