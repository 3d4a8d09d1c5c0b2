import { createRoute } from "@hono/zod-openapi";
import { json, router } from "../http/openapi.ts";
import { Health } from "../protocol/index.ts";

export const health = router().openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    responses: { 200: json(Health, "alive") },
  }),
  (c) => c.json({ ok: true as const }, 200),
);
