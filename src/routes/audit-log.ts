import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { INSTANCE_AUDIT_NAME } from "../audit/feed.ts";
import { pageOf } from "../audit/filter.ts";
import { auditEntries } from "../db/audit-reads.ts";
import { readRouterOf } from "../db/postgres.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { orUnavailable, SERVED_BY, servedByLabel } from "../http/database.ts";
import { bearer, errors, json, router } from "../http/openapi.ts";
import { clientAddress } from "../http/limits.ts";
import {
  AuditChainReport,
  AuditPage,
  AuditQuery,
  type AuditAction,
  type AuditData,
  type AuditTarget,
  type UserRef,
} from "../protocol/index.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * The instance audit log for admins (docs/audit.md). Mounted by admin.ts, behind its
 * admins-only middleware; reading the log is not itself recorded.
 */
export const auditLog = router();

/** The instance audit log's object (its `verify` is the RPC admin service's too). */
export const logOf = (c: Context<AppEnv>) => c.env.INSTANCE_AUDIT.getByName(INSTANCE_AUDIT_NAME);

auditLog.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/audit",
    summary: "The instance audit log: who did what, when and from where",
    description:
      "Newest first, filtered by actor (a user id, or a name case-insensitively), action and time " +
      "range (`since`/`until`, ms, inclusive); `before` is the previous page's `nextBefore`. With " +
      "Postgres the page comes from a replica of its mirror (`source: postgres`, which may lag the " +
      "log by its flush delay); without, from the log itself.",
    security: bearer,
    request: { query: AuditQuery },
    responses: {
      200: json(AuditPage, "a page of entries"),
      ...errors("bad_request", "unauthorized", "forbidden", "unavailable"),
    },
  }),
  async (c) => {
    const filter = c.req.valid("query");
    const replicas = readRouterOf(settings(c), c.var.telemetry.scope);
    if (!replicas) return c.json({ ...(await logOf(c).list(filter)), source: "log" as const }, 200);
    const { value, servedBy } = await orUnavailable(
      replicas.read((db) => auditEntries(db, filter)),
    );
    c.header(SERVED_BY, servedByLabel(c, servedBy));
    return c.json({ ...pageOf(value, filter.limit), source: "postgres" as const }, 200);
  },
);

auditLog.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/audit/verify",
    summary: "Verify the instance audit log's hash chain",
    description:
      "Recomputes every entry's content hash and link from the log itself (never the mirror): " +
      "`{ok, lastSeq, head}`, or the first broken entry's seq and what is wrong with it.",
    security: bearer,
    responses: {
      200: json(AuditChainReport, "the verdict"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => c.json(await logOf(c).verify(), 200),
);

/** An action to record, as a route knows it after it happened. */
export type Recorded = {
  action: AuditAction;
  actor: UserRef;
  target?: AuditTarget;
  data?: AuditData;
};

/**
 * Records an action in the instance audit log after the response, off the request's path: a
 * log that is briefly away costs the action nothing (the failure is logged).
 */
export function recordAudit(c: Context<AppEnv>, recorded: Recorded): void {
  const entry = {
    at: Date.now(),
    actor: { id: recorded.actor.id, name: recorded.actor.name },
    action: recorded.action,
    target: recorded.target ?? {},
    ip: clientAddress(c),
    data: recorded.data ?? {},
  };
  c.executionCtx.waitUntil(
    logOf(c)
      .record([entry])
      .catch((error: unknown) =>
        log.warn("audit entry not recorded", { action: entry.action, error: errorFields(error) }),
      ),
  );
}
