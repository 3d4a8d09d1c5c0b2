import { describe, expect, it } from "vitest";
import { Health, Ready } from "../../src/protocol/index.ts";
import { call } from "./helpers.ts";

/**
 * The health checks without Postgres (the worker tests' configuration has no DATABASE_URL); with
 * Postgres, and with the primary stopped, test/db/readiness.test.ts.
 */
describe("health checks", () => {
  it("/healthz: alive, not cached", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(Health.parse(await res.json())).toEqual({ ok: true });
    // The first request of the file starts the worker.
  }, 20_000);

  it("/readyz without Postgres: ready on the rooms' own storage, unauthenticated, not cached", async () => {
    const res = await call("/readyz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(Ready.parse(await res.json())).toEqual({
      ok: true,
      degraded: [],
      checks: { storage: "durable-objects" },
    });
  });

  it("both are in the OpenAPI document with their answers", async () => {
    const doc = await (
      await call("/api/openapi.json")
    ).json<{
      paths: Record<string, { get: { responses: Record<string, unknown> } }>;
    }>();
    expect(Object.keys(doc.paths["/healthz"]!.get.responses)).toEqual(["200"]);
    expect(Object.keys(doc.paths["/readyz"]!.get.responses).sort()).toEqual(["200", "503"]);
  });
});
