import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { readRouterOf } from "../db/postgres.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { errors, router } from "../http/openapi.ts";
import { EXPOSITION_TYPE, render } from "../metrics/exposition.ts";
import { databaseGauges, roomGauges } from "../metrics/gauges.ts";
import { countInIsolate, shipNow } from "../metrics/isolate.ts";
import { addDelta, emptyDelta } from "../metrics/meter.ts";
import { readEveryShard } from "../metrics/shards.ts";
import type { NodeReport } from "../protocol/index.ts";
import { constantTimeEqual } from "../identity/password.ts";

/** `/metrics`: the Prometheus text format of every metrics object's totals, for a scraper. */
export const metrics = router().openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text format 0.0.4)",
    description:
      "Every counter and histogram of docs/observability.md, added up over the metrics objects, and the gauges: sockets, active rooms, the flush backlog, and with Postgres each node probed now. Needs `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN configured it is not served (404).",
    security: [{ metricsToken: [] }],
    responses: {
      200: {
        description: "the metrics",
        content: { "text/plain": { schema: z.string() } },
      },
      ...errors("unauthorized", "not_found"),
    },
  }),
  async (c) => {
    await checkScrapeToken(c);
    const body = render(...(await scrape(c)));
    return c.text(body, 200, { "content-type": EXPOSITION_TYPE, "cache-control": "no-store" });
  },
);

/** The scrape token, compared in constant time; `/metrics` does not exist without one set. */
async function checkScrapeToken(c: Context<AppEnv>): Promise<void> {
  const expected = settings(c).METRICS_TOKEN;
  if (!expected) throw new ApiError("not_found", "not found");
  const given = /^Bearer (\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  if (constantTimeEqual(new Uint8Array(a), new Uint8Array(b))) return;
  countInIsolate("auth_failures_total", { reason: "metrics_token" });
  throw new ApiError("unauthorized", "a valid scrape token is required");
}

const digest = (text: string) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));

/** This isolate's counts pushed, every shard read, and the database probed when there is one. */
async function scrape(c: Context<AppEnv>) {
  await shipNow(c.env);
  const now = Date.now();
  const [shards, nodes] = await Promise.all([readEveryShard(c.env), probeDatabase(c)]);
  const totals = emptyDelta();
  for (const shard of shards) addDelta(totals, shard.totals);
  const rooms = shards.flatMap((shard) => shard.rooms);
  return [totals, [...roomGauges(rooms, now), ...databaseGauges(nodes)]] as const;
}

/** Every database node's health and lag, probed now; none without Postgres. */
export async function probeDatabase(c: Context<AppEnv>): Promise<NodeReport[]> {
  return (await readRouterOf(settings(c))?.report()) ?? [];
}
