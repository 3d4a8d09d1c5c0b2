import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrometheus, type Prometheus } from "../support/prometheus.ts";
import { freshRoom, httpPosts, waitUntil } from "../e2e/helpers.ts";
import { caughtUp, drained, query, useDbSuite } from "./harness.ts";

/**
 * The Grafana dashboard's Postgres row on a real primary and two streaming replicas, which the
 * end-to-end test (test/e2e/prometheus.test.ts, no Postgres) lists as empty: Prometheus scrapes
 * the worker, and every query of the row returns data; the flush counts equal what was flushed,
 * and a stopped replica shows as down.
 */
const METRICS_TOKEN = randomBytes(24).toString("base64url");
const JOB = "edgechat";
const suite = useDbSuite({ METRICS_TOKEN, METRICS_PUSH_MS: "500" });
let prometheus: Prometheus | undefined;
beforeAll(async () => {
  prometheus = await startPrometheus({
    targets: [{ address: `127.0.0.1:${suite.server.port}`, token: METRICS_TOKEN, job: JOB }],
  });
  await prometheus.waitForTargetsUp(JOB);
}, 60_000);
afterAll(async () => prometheus?.stop());

const prom = () => {
  if (!prometheus) throw new Error("Prometheus did not start");
  return prometheus;
};
const value = async (expr: string) => (await prom().value(expr)) ?? 0;

type Panel = { title: string; targets?: { expr: string }[] };
const postgresRow = (() => {
  const { panels } = JSON.parse(
    readFileSync(new URL("../../grafana/edgechat.json", import.meta.url), "utf8"),
  ) as { panels: (Panel & { type: string })[] };
  const start = panels.findIndex((panel) => panel.type === "row" && panel.title === "Postgres");
  const end = panels.findIndex((panel, index) => index > start && panel.type === "row");
  return panels.slice(start + 1, end);
})();

describe("Prometheus and the dashboard with Postgres", () => {
  it("counts the flushed events exactly, and every query of the Postgres row has data", async () => {
    const room = await freshRoom(suite.root);
    const posts = 12;
    await httpPosts(suite.root, room, posts, "p", 4);
    await drained(suite, room);
    await caughtUp(suite.cluster);
    // Every room's events in Postgres, as Postgres itself counts them: what the rooms flushed.
    const [row] = await query<{ n: string }>(
      suite.cluster.primaryUrl,
      sql`SELECT count(*) AS n FROM events`,
    );
    const flushed = Number(row!.n);
    expect(flushed).toBeGreaterThanOrEqual(posts);
    const events = `sum(edgechat_flush_events_total{job="${JOB}"})`;
    await waitUntil(
      async () =>
        (await value(events)) >= flushed &&
        (await value(`sum(edgechat_flush_backlog_events{job="${JOB}"})`)) === 0,
      "the flush counted in Prometheus",
      45_000,
      250,
    );
    await prom().waitForScrapes(2, JOB);
    expect(await value(events)).toBe(flushed);
    expect(await value(`sum(edgechat_flush_batches_total{job="${JOB}",outcome="failed"})`)).toBe(0);
    expect(await value(`sum(edgechat_db_node_up{job="${JOB}"})`)).toBe(3);

    expect(postgresRow.length).toBeGreaterThanOrEqual(7);
    await prom().waitForScrapes(2, JOB);
    for (const panel of postgresRow) {
      for (const target of panel.targets ?? []) {
        const answer = await prom().query(
          target.expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", JOB),
        );
        expect(answer.ok, `${panel.title}: ${JSON.stringify(answer)}`).toBe(true);
        expect(answer.ok && answer.samples.length, panel.title).toBeGreaterThan(0);
      }
    }
  });

  it("a stopped replica shows as down, and up again once it is back", async () => {
    const up = `edgechat_db_node_up{job="${JOB}",node="replica-2",role="replica"}`;
    await suite.cluster.stopNode("replica2");
    try {
      await waitUntil(
        async () => (await value(up)) === 0 && (await count(up)) === 1,
        "replica-2 down",
        30_000,
        250,
      );
    } finally {
      await suite.cluster.startNode("replica2");
    }
    await waitUntil(async () => (await value(up)) === 1, "replica-2 up again", 30_000, 250);
  });
});

/** How many series a selector has (a gauge at 0 still is one). */
async function count(selector: string): Promise<number> {
  return (await prom().samples(selector)).length;
}
