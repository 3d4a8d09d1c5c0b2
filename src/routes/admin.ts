import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { allRoomNames } from "../directory/shards.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { authenticate } from "../http/authenticate.ts";
import { readRouter } from "../http/database.ts";
import { bearer, errors, json, router } from "../http/openapi.ts";
import { BacklogReport, ReplicaReport } from "../protocol/index.ts";
import { adminUsers } from "./admin-users.ts";
import { auditLog } from "./audit-log.ts";
import { services } from "./services.ts";
import { adminMetrics } from "./admin-metrics.ts";
import { instanceWebhooks } from "./webhooks.ts";
import { instanceRules } from "./instance-rules.ts";
import { slackLinks } from "./slack.ts";
import { adminPlugins } from "./plugins.ts";

/**
 * For instance admins (ADMIN_USERNAMES): replica health and lag, the flush backlog, the audit
 * log, service accounts and their keys, registered accounts (admin-users.ts), the instance's
 * webhooks and rules (webhooks.ts, instance-rules.ts), plugins (plugins.ts).
 */
export const admin = router();

const adminsOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.user.admin) throw new ApiError("forbidden", "for instance admins only");
  await next();
});
admin.use("/api/admin/*", authenticate, adminsOnly);
// After the middleware, so that it guards these routes too.
admin.route("/", auditLog);
admin.route("/", services);
admin.route("/", adminMetrics);
admin.route("/", adminUsers);
admin.route("/", instanceWebhooks);
admin.route("/", instanceRules);
admin.route("/", slackLinks);
admin.route("/", adminPlugins);

admin.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/replicas",
    summary: "Each database node's health and replication lag",
    description:
      "Probes every node now: replay LSN, lag in bytes and milliseconds, paused replay, circuit state.",
    security: bearer,
    responses: {
      200: json(ReplicaReport, "the nodes"),
      ...errors("unauthorized", "forbidden", "unavailable"),
    },
  }),
  async (c) => c.json(await replicaReport(c), 200),
);

admin.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/backlog",
    summary: "Events not yet in Postgres, per room and in total",
    description: "Each room's log is its own backlog: lastSeq against the seq flushed so far.",
    security: bearer,
    responses: {
      200: json(BacklogReport, "the backlog"),
      ...errors("unauthorized", "forbidden", "unavailable"),
    },
  }),
  async (c) => c.json(await backlogReport(c), 200),
);

/** Every database node's health and lag, probed now: REST's and the RPC admin service's. */
export async function replicaReport(c: Context<AppEnv>): Promise<ReplicaReport> {
  const nodes = await readRouter(c).report();
  return { nodes, maxLagMs: settings(c).REPLICA_MAX_LAG_MS };
}

/** Each room's events not yet in Postgres; `unavailable` without Postgres (nothing to flush to). */
export async function backlogReport(c: Context<AppEnv>): Promise<BacklogReport> {
  readRouter(c);
  const names = await allRoomNames(c.env);
  const rooms = await Promise.all(
    names.map(async (name) => {
      const state = await c.env.ROOM.getByName(name).backlog();
      return { name, ...state, backlog: state.lastSeq - state.flushedSeq };
    }),
  );
  return { total: rooms.reduce((sum, room) => sum + room.backlog, 0), rooms };
}
