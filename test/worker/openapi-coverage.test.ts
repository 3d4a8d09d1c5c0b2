/**
 * Every HTTP route the app serves is in its OpenAPI document (`/api/openapi.json`), with its
 * method: Hono's own list of the app's routes, against the document the worker serves.
 */
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { createApp } from "../../src/app.ts";

/** Routes served but deliberately not API operations: the document itself and its page. */
const NOT_OPERATIONS = new Set(["GET /api/openapi.json", "GET /api/docs"]);

it("documents every route the app serves, method by method", async () => {
  const served = new Set(
    createApp()
      .routes.filter((route) => route.method !== "ALL" && !route.path.includes("*"))
      .filter((route) => route.path.startsWith("/api/") || route.path === "/healthz")
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  const doc = (await (await SELF.fetch("https://edgechat.test/api/openapi.json")).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
  const missing = [...served].filter(
    (route) => !documented.has(route) && !NOT_OPERATIONS.has(route),
  );
  expect(missing).toEqual([]);
  expect(served.size).toBeGreaterThan(50);
  for (const route of [
    "POST /api/rooms/{room}/webhooks",
    "POST /api/rooms/{room}/webhooks/{webhook}/deliveries/{delivery}/replay",
    "POST /api/admin/webhooks",
    "GET /api/admin/rules",
    "POST /api/admin/rules",
    "PUT /api/admin/rules/{id}",
    "DELETE /api/admin/rules/{id}",
    "POST /api/admin/rules/dry-run",
    "POST /api/rooms/{room}/incoming-webhooks",
    "POST /api/hooks/{room}/{hook}/{secret}",
    "PUT /api/admin/plugins/{id}",
    "PATCH /api/admin/plugins/{id}",
    "POST /api/admin/plugins/{id}/try",
    "GET /api/plugins",
  ])
    expect(documented, route).toContain(route);
});
