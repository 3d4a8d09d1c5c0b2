import { describe, expect, it } from "vitest";
import { readinessOf } from "../../src/db/readiness.ts";
import type { NodeReport } from "../../src/protocol/index.ts";

const node = (role: NodeReport["role"], facts: Partial<NodeReport> = {}): NodeReport => ({
  url: "db.internal:5432/edgechat",
  role,
  healthy: true,
  openUntil: 0,
  lagBytes: 0,
  lagMs: 0,
  replayLsn: "0/16B6C50",
  paused: false,
  error: null,
  checkedAt: 1,
  ...facts,
});

describe("readiness rule", () => {
  it("primary and replicas up: ready, nothing degraded, no addresses", () => {
    const readiness = readinessOf([node("primary"), node("replica"), node("replica")], 5000);
    expect(readiness).toEqual({
      ready: true,
      degraded: [],
      checks: {
        storage: "postgres",
        primary: { node: "primary", status: "up", lagMs: null },
        replicas: [
          { node: "replica-1", status: "up", lagMs: 0 },
          { node: "replica-2", status: "up", lagMs: 0 },
        ],
      },
    });
    expect(JSON.stringify(readiness)).not.toContain("db.internal");
  });

  it("a replica down or lagging past the limit degrades but stays ready", () => {
    const readiness = readinessOf(
      [
        node("primary"),
        node("replica", { healthy: false, lagMs: null, error: "connect ECONNREFUSED" }),
        node("replica", { lagMs: 5001 }),
      ],
      5000,
    );
    expect(readiness).toMatchObject({ ready: true, degraded: ["replica-1", "replica-2"] });
    expect(readiness.checks).toMatchObject({
      replicas: [
        { node: "replica-1", status: "down", lagMs: null },
        { node: "replica-2", status: "lagging", lagMs: 5001 },
      ],
    });
  });

  it("lag at the limit is not lagging; unknown lag is not either", () => {
    const readiness = readinessOf(
      [node("primary"), node("replica", { lagMs: 5000 }), node("replica", { lagMs: null })],
      5000,
    );
    expect(readiness).toMatchObject({ ready: true, degraded: [] });
  });

  it("the primary down fails readiness whatever the replicas say, and says so", () => {
    const readiness = readinessOf(
      [
        node("primary", { healthy: false, error: "connect ECONNREFUSED 10.0.0.1:5432" }),
        node("replica"),
      ],
      5000,
    );
    expect(readiness).toMatchObject({ ready: false, failed: ["primary"] });
    expect(readiness.ready === false && readiness.message).toMatch(/primary/);
    expect(JSON.stringify(readiness)).not.toContain("10.0.0.1");
  });

  it("no report at all is the primary down", () => {
    expect(readinessOf([], 5000)).toMatchObject({ ready: false, failed: ["primary"] });
  });
});
