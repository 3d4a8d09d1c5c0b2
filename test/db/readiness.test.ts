import { describe, expect, it } from "vitest";
import { ErrorBody, NotReady, Ready } from "../../src/protocol/index.ts";
import { waitUntil } from "../e2e/helpers.ts";
import { caughtUp, useDbSuite, type NodeName } from "./harness.ts";

/**
 * /readyz on a real primary and two streaming replicas (docs/observability.md, "Health"): ready
 * with all up, degraded but ready with a replica stopped, 503 `unavailable` naming the primary
 * once it is stopped, ready again when it is back. Without Postgres: test/worker/health.test.ts.
 */
const suite = useDbSuite();

type Answer = { status: number; cacheControl: string | null; body: unknown };
async function readyz(): Promise<Answer> {
  const res = await fetch(`${suite.server.url}/readyz`);
  return {
    status: res.status,
    cacheControl: res.headers.get("cache-control"),
    body: await res.json(),
  };
}

/** Stops `node`, runs `during`, starts it again whatever happens. */
async function withNodeDown<T>(node: NodeName, during: () => Promise<T>): Promise<T> {
  await suite.cluster.stopNode(node);
  try {
    return await during();
  } finally {
    await suite.cluster.startNode(node);
  }
}

describe("/readyz with Postgres", () => {
  it("primary and both replicas up: 200, each node up by role, no address in the body", async () => {
    await caughtUp(suite.cluster);
    const answer = await readyz();
    expect(answer.status).toBe(200);
    expect(answer.cacheControl).toBe("no-store");
    const ready = Ready.parse(answer.body);
    expect(ready.degraded).toEqual([]);
    expect(ready.checks).toMatchObject({
      storage: "postgres",
      primary: { node: "primary", status: "up" },
      replicas: [
        { node: "replica-1", status: "up" },
        { node: "replica-2", status: "up" },
      ],
    });
    const text = JSON.stringify(answer.body);
    expect(text).not.toContain("127.0.0.1");
    expect(text).not.toContain(String(suite.cluster.ports.primary));
  });

  it("a replica stopped: still 200, the replica named as degraded and down", async () => {
    await withNodeDown("replica2", async () => {
      const ready = await waitUntil(
        async () => {
          const answer = await readyz();
          expect(answer.status).toBe(200);
          const body = Ready.parse(answer.body);
          return body.degraded.length > 0 ? body : undefined;
        },
        "replica-2 reported down",
        15_000,
        100,
      );
      expect(ready.degraded).toEqual(["replica-2"]);
      expect(ready.checks).toMatchObject({
        primary: { status: "up" },
        replicas: [{ status: "up" }, { node: "replica-2", status: "down" }],
      });
    });
  });

  it("the primary stopped: 503 unavailable, failed names the primary; 200 once it is back", async () => {
    await withNodeDown("primary", async () => {
      const answer = await waitUntil(
        async () => {
          const found = await readyz();
          return found.status === 503 ? found : undefined;
        },
        "/readyz 503 with the primary stopped",
        15_000,
        100,
      );
      expect(answer.cacheControl).toBe("no-store");
      expect(ErrorBody.parse(answer.body).error.code).toBe("unavailable");
      const notReady = NotReady.parse(answer.body);
      expect(notReady.failed).toEqual(["primary"]);
      expect(notReady.error.message).toMatch(/primary/);
      expect(notReady.checks).toMatchObject({ primary: { node: "primary", status: "down" } });
    });
    await waitUntil(async () => (await readyz()).status === 200, "/readyz 200 again", 30_000, 200);
  });
});
