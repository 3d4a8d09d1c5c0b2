import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { readRouterOf } from "../db/postgres.ts";
import { DURABLE_OBJECTS_ONLY, readinessOf, type Readiness } from "../db/readiness.ts";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { json, router } from "../http/openapi.ts";
import { Health, NotReady, Ready } from "../protocol/index.ts";

/**
 * How long /readyz waits for the database probes. The driver gives up connecting to a node
 * after 5 s, so a replica that does not answer at all is reported down just before this, and
 * the answer stays a 200 (degraded) while the primary answers.
 */
const PROBE_TIMEOUT_MS = 6_000;
/** Answers younger than this are reused: probers of a load balancer are many. */
const REUSE_MS = 1_000;

export const health = router();

health.openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    description:
      "The worker runs and answers; checks nothing else. For a liveness probe: restarting does not fix a database.",
    responses: { 200: json(Health, "alive") },
  }),
  (c) => {
    c.header("cache-control", "no-store");
    return c.json({ ok: true as const }, 200);
  },
);

health.openapi(
  createRoute({
    method: "get",
    path: "/readyz",
    summary: "Readiness",
    description:
      "Whether this instance can serve: without Postgres always; with Postgres while the primary answers. Replicas down or lagging are named in `degraded` but do not fail it. For load balancers (docs/observability.md).",
    responses: {
      200: json(Ready, "ready (maybe degraded)"),
      503: json(NotReady, "not ready: `failed` names the checks that failed"),
    },
  }),
  async (c) => {
    c.header("cache-control", "no-store");
    const readiness = await readinessNow(c);
    if (readiness.ready) {
      return c.json(
        { ok: true as const, degraded: readiness.degraded, checks: readiness.checks },
        200,
      );
    }
    return c.json(
      {
        ok: false as const,
        error: { code: "unavailable" as const, message: readiness.message },
        failed: readiness.failed,
        checks: readiness.checks,
      },
      503,
    );
  },
);

/**
 * Per isolate: the last answer, reused for REUSE_MS. Only a settled answer: a promise of another
 * request's I/O must not be awaited by this one on Workers.
 */
let last: { key: string; at: number; readiness: Readiness } | undefined;

async function readinessNow(c: Context<AppEnv>): Promise<Readiness> {
  let config;
  try {
    config = settings(c);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // settings() has logged which variable is wrong.
    return { ready: false, failed: ["config"], message: "not ready: the server is not configured" };
  }
  const readRouter = readRouterOf(config);
  if (!readRouter) return DURABLE_OBJECTS_ONLY;
  const key = config.DATABASE_URL ?? "";
  if (last && last.key === key && Date.now() - last.at < REUSE_MS) return last.readiness;
  const readiness = await withTimeout(
    readRouter.report().then((nodes) => readinessOf(nodes, config.REPLICA_MAX_LAG_MS)),
  );
  last = { key, at: Date.now(), readiness };
  return readiness;
}

function withTimeout(probe: Promise<Readiness>): Promise<Readiness> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ready: false,
          failed: ["database"],
          message: `not ready: the database did not answer within ${PROBE_TIMEOUT_MS / 1000} s`,
        }),
      PROBE_TIMEOUT_MS,
    );
  });
  return Promise.race([probe, timedOut]).finally(() => clearTimeout(timer));
}
