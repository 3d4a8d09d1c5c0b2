import { parseConfig, type Config } from "../config.ts";
import type { AuditEntry, RoomEvent } from "../protocol/index.ts";
import { flushAudit } from "./audit-flush.ts";
import { useLocalProxy, withDb } from "./connect.ts";
import { describeDbError } from "./errors.ts";
import { flushEvents } from "./flush.ts";
import { ReadRouter } from "./replicas.ts";
import type { Scope } from "../telemetry/tracing.ts";

/**
 * The read router over the configured primary and replicas, or undefined without DATABASE_URL
 * (the chat then runs on Durable Object storage alone).
 */
export function readRouterOf(config: Config, scope?: Scope): ReadRouter | undefined {
  if (!config.DATABASE_URL) return undefined;
  useDriverSettings(config);
  return new ReadRouter(
    config.DATABASE_URL,
    config.DATABASE_REPLICA_URLS,
    config.REPLICA_MAX_LAG_MS,
    scope,
  );
}

/**
 * Where a room's outbox writes its events: a transaction on the primary per batch, answering
 * the room's cursor in Postgres afterwards. Undefined without DATABASE_URL (or with a config
 * the worker refuses anyway).
 */
export function postgresSink(env: object) {
  const parsed = parseConfig(env);
  const url = parsed.ok ? parsed.config.DATABASE_URL : undefined;
  if (!parsed.ok || !url) return undefined;
  useDriverSettings(parsed.config);
  return {
    async write(room: string, batch: readonly RoomEvent[]): Promise<number> {
      try {
        return await withDb(url, (db) => flushEvents(db, room, batch));
      } catch (error) {
        throw new Error(describeDbError(error), { cause: error });
      }
    },
  };
}

/**
 * Where the instance audit log mirrors its entries: a transaction on the primary per batch,
 * answering the mirror's cursor. Undefined without DATABASE_URL.
 */
export function auditSink(env: object) {
  const parsed = parseConfig(env);
  const url = parsed.ok ? parsed.config.DATABASE_URL : undefined;
  if (!parsed.ok || !url) return undefined;
  useDriverSettings(parsed.config);
  return {
    async write(batch: readonly AuditEntry[]): Promise<number> {
      try {
        return await withDb(url, (db) => flushAudit(db, batch));
      } catch (error) {
        throw new Error(describeDbError(error), { cause: error });
      }
    },
  };
}

/** The one place in the worker that sets the driver's global options. */
function useDriverSettings(config: Config): void {
  useLocalProxy(config.PG_WS_PROXY);
}
