import type { NodeCheck, NodeReport, ReadinessChecks } from "../protocol/index.ts";

/** What `/readyz` answers, decided from the read router's report (docs/observability.md). */
export type Readiness =
  | { ready: true; degraded: string[]; checks: ReadinessChecks }
  | { ready: false; failed: string[]; message: string; checks?: ReadinessChecks };

/**
 * The rule: the instance is ready while the primary answers, since every write path (the
 * rooms' flush, the audit mirror) needs it and the reads fall back to it. Replicas only make
 * reads cheaper, so one down or lagging beyond `maxLagMs` degrades (named in `degraded`) but
 * does not fail readiness: taking the instance out of a load balancer for it would turn slower
 * reads into no service at all. `nodes` is `ReadRouter.report()`: the primary first, then the
 * replicas in configuration order.
 */
export function readinessOf(nodes: readonly NodeReport[], maxLagMs: number): Readiness {
  const [primaryReport, ...replicaReports] = nodes;
  const primary: NodeCheck = primaryReport
    ? { node: "primary", status: primaryReport.healthy ? "up" : "down", lagMs: null }
    : { node: "primary", status: "down", lagMs: null };
  const replicas = replicaReports.map((report, index) =>
    replicaCheck(report, `replica-${index + 1}`, maxLagMs),
  );
  const checks: ReadinessChecks = { storage: "postgres", primary, replicas };
  if (primary.status === "down") {
    return {
      ready: false,
      failed: ["primary"],
      message: "not ready: the primary database does not answer",
      checks,
    };
  }
  return {
    ready: true,
    degraded: replicas.filter((check) => check.status !== "up").map((check) => check.node),
    checks,
  };
}

function replicaCheck(report: NodeReport, node: string, maxLagMs: number): NodeCheck {
  if (!report.healthy) return { node, status: "down", lagMs: null };
  const lagging = report.lagMs !== null && report.lagMs > maxLagMs;
  return { node, status: lagging ? "lagging" : "up", lagMs: report.lagMs };
}

/** Without Postgres the rooms' own storage is all there is, and it is always there. */
export const DURABLE_OBJECTS_ONLY: Readiness = {
  ready: true,
  degraded: [],
  checks: { storage: "durable-objects" },
};
