import { sql } from "drizzle-orm";
import type { NodeReport } from "../protocol/index.ts";
import { withDb, type Db } from "./connect.ts";
import { describeDbError } from "./errors.ts";
import { inSpan, SpanKind, type Scope } from "../telemetry/tracing.ts";

/**
 * What a read must include: a write's LSN on the primary, or a room's event seq (the flush
 * moves `room_cursors` in the same transaction as the rows). Read-your-writes for the caller.
 */
export type Consistency = { lsn?: string; room?: string; seq?: number };

type Health = { failures: number; openUntil: number; report: NodeReport | undefined };

/**
 * Per isolate: what this worker instance last learned of each node. Lost on eviction, which
 * only means the next read probes again.
 */
const health = new Map<string, Health>();
const MAX_OPEN_MS = 30_000;
let turn = 0;

/**
 * Routes reads to healthy replicas that are recent enough, falling back to the primary; writes
 * never come here. A replica that fails is taken out (circuit breaker) and tried again after
 * 1 s, 2 s, 4 s … up to 30 s. No mainstream ORM checks a consistency token per read, hence
 * this small router on top of drizzle rather than drizzle's `withReplicas`.
 */
export class ReadRouter {
  readonly #primary: string;
  readonly #replicas: readonly string[];
  readonly #maxLagMs: number;
  readonly #scope: Scope | undefined;

  /** `scope`: the request's span, under which each read gets a `db.read` span (tracing on). */
  constructor(primary: string, replicas: readonly string[], maxLagMs: number, scope?: Scope) {
    this.#primary = primary;
    this.#replicas = replicas;
    this.#maxLagMs = maxLagMs;
    this.#scope = scope;
  }

  /** Runs `query` on the best node; says which one served it. Throws when none could. */
  async read<T>(
    query: (db: Db) => Promise<T>,
    consistency: Consistency = {},
  ): Promise<{ value: T; servedBy: string }> {
    const attributes = {
      "db.system": "postgresql",
      "db.system.name": "postgresql",
      "db.operation.name": "read",
    };
    return inSpan(
      this.#scope,
      "db.read",
      { kind: SpanKind.CLIENT, attributes },
      async (_, span) => {
        const served = await this.#read(query, consistency);
        span?.setAttribute("edgechat.db.node", this.#label(served.servedBy));
        return served;
      },
    );
  }

  /** "primary" or "replica-N", never a connection string. */
  #label(url: string): string {
    const index = this.#replicas.indexOf(url);
    return index >= 0 ? `replica-${index + 1}` : "primary";
  }

  async #read<T>(
    query: (db: Db) => Promise<T>,
    consistency: Consistency,
  ): Promise<{ value: T; servedBy: string }> {
    const now = Date.now();
    for (const url of this.#candidates(now)) {
      const outcome = await this.#tryReplica(url, query, consistency, now);
      if (outcome) return { value: outcome.value, servedBy: url };
    }
    const value = await this.#attempt(this.#primary, (db) => query(db));
    return { value, servedBy: this.#primary };
  }

  /** Every node's state, probing each now: for the admin's replica view. */
  async report(): Promise<NodeReport[]> {
    const now = Date.now();
    const primary = await this.#probePrimary(now);
    const replicas = await Promise.all(
      this.#replicas.map((url) => this.#probeReplica(url, primary.lsn, now)),
    );
    return [primary.report, ...replicas];
  }

  /**
   * Replicas whose circuit is closed, starting from the next one in turn so that reads spread
   * over all of them; lag and consistency are checked on the read itself.
   */
  #candidates(now: number): string[] {
    const open = this.#replicas.filter((url) => (health.get(url)?.openUntil ?? 0) <= now);
    turn = (turn + 1) % Math.max(1, open.length);
    return [...open.slice(turn), ...open.slice(0, turn)];
  }

  async #tryReplica<T>(
    url: string,
    query: (db: Db) => Promise<T>,
    consistency: Consistency,
    now: number,
  ): Promise<{ value: T } | undefined> {
    try {
      return await withDb(url, async (db) => {
        const state = await replicaState(db, consistency);
        const lagMs = state.replayLagMs;
        recordSuccess(url, { lagMs, replayLsn: state.replayLsn, paused: state.paused }, now);
        if (!state.inRecovery) return undefined; // not a replica (yet): leave it to the primary
        if (!state.satisfies) return undefined; // has not replayed the caller's write yet
        if (state.behind && lagMs !== null && lagMs > this.#maxLagMs) return undefined;
        return { value: await query(db) };
      });
    } catch (error) {
      recordFailure(url, error, now);
      return undefined;
    }
  }

  async #attempt<T>(url: string, query: (db: Db) => Promise<T>): Promise<T> {
    try {
      const value = await withDb(url, query);
      recordSuccess(url, {}, Date.now());
      return value;
    } catch (error) {
      recordFailure(url, error, Date.now());
      throw error;
    }
  }

  async #probePrimary(now: number): Promise<{ report: NodeReport; lsn: string | null }> {
    try {
      const lsn = await withDb(this.#primary, async (db) => {
        const rows = await db.execute<{ lsn: string }>(
          sql`SELECT pg_current_wal_lsn()::text AS lsn`,
        );
        return rows.rows[0]?.lsn ?? null;
      });
      recordSuccess(this.#primary, { replayLsn: lsn }, now);
    } catch (error) {
      recordFailure(this.#primary, error, now);
    }
    const report = nodeReport(this.#primary, "primary");
    return { report, lsn: report.healthy ? report.replayLsn : null };
  }

  async #probeReplica(url: string, primaryLsn: string | null, now: number): Promise<NodeReport> {
    try {
      await withDb(url, async (db) => {
        const state = await replicaState(db, {}, primaryLsn);
        recordSuccess(
          url,
          {
            lagMs: state.replayLagMs,
            lagBytes: state.lagBytes,
            replayLsn: state.replayLsn,
            paused: state.paused,
          },
          now,
        );
      });
    } catch (error) {
      recordFailure(url, error, now);
    }
    return nodeReport(url, "replica");
  }
}

type ReplicaState = {
  inRecovery: boolean;
  replayLsn: string | null;
  paused: boolean;
  /** Whether the replica has received WAL it has not replayed yet. */
  behind: boolean;
  replayLagMs: number | null;
  lagBytes: number | null;
  satisfies: boolean;
};

/** One round trip: the replica's replay position and whether it includes what the caller needs. */
async function replicaState(
  db: Db,
  consistency: Consistency,
  primaryLsn: string | null = null,
): Promise<ReplicaState> {
  const lsnCheck = consistency.lsn
    ? sql`pg_last_wal_replay_lsn() >= ${consistency.lsn}::pg_lsn`
    : sql`true`;
  const seqCheck =
    consistency.room !== undefined && consistency.seq !== undefined
      ? sql`coalesce((SELECT seq FROM room_cursors WHERE room = ${consistency.room}), 0) >= ${consistency.seq}`
      : sql`true`;
  const versus = primaryLsn
    ? sql`pg_wal_lsn_diff(${primaryLsn}::pg_lsn, pg_last_wal_replay_lsn())`
    : sql`NULL`;
  const result = await db.execute<{
    in_recovery: boolean;
    replay_lsn: string | null;
    paused: boolean;
    behind: boolean;
    lag_ms: string | null;
    lag_bytes: string | null;
    satisfies: boolean;
  }>(sql`SELECT pg_is_in_recovery() AS in_recovery,
      pg_last_wal_replay_lsn()::text AS replay_lsn,
      CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused,
      coalesce(pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn(), false) AS behind,
      CASE WHEN pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()
           THEN (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint
           ELSE 0 END AS lag_ms,
      ${versus}::bigint AS lag_bytes,
      (CASE WHEN pg_is_in_recovery() THEN ${lsnCheck} ELSE true END) AND ${seqCheck} AS satisfies`);
  const row = result.rows[0]!;
  const bytes = row.lag_bytes === null ? null : Number(row.lag_bytes);
  return {
    inRecovery: row.in_recovery,
    replayLsn: row.replay_lsn,
    paused: row.paused,
    behind: row.behind || (bytes ?? 0) > 0,
    replayLagMs: row.lag_ms === null ? null : Number(row.lag_ms),
    lagBytes: bytes,
    satisfies: row.satisfies,
  };
}

function recordSuccess(url: string, facts: Partial<NodeReport>, now: number): void {
  const previous = health.get(url)?.report;
  const report: NodeReport = {
    url,
    role: previous?.role ?? "replica",
    healthy: true,
    openUntil: 0,
    lagBytes: facts.lagBytes ?? previous?.lagBytes ?? null,
    lagMs: facts.lagMs ?? null,
    replayLsn: facts.replayLsn ?? null,
    paused: facts.paused ?? false,
    error: null,
    checkedAt: now,
  };
  health.set(url, { failures: 0, openUntil: 0, report });
}

function recordFailure(url: string, error: unknown, now: number): void {
  const failures = (health.get(url)?.failures ?? 0) + 1;
  const openUntil = now + Math.min(MAX_OPEN_MS, 1000 * 2 ** (failures - 1));
  const message = describeDbError(error);
  const previous = health.get(url)?.report;
  const report: NodeReport = {
    url,
    role: previous?.role ?? "replica",
    healthy: false,
    openUntil,
    lagBytes: null,
    lagMs: null,
    replayLsn: previous?.replayLsn ?? null,
    paused: false,
    error: message.slice(0, 200),
    checkedAt: now,
  };
  health.set(url, { failures, openUntil, report });
}

function nodeReport(url: string, role: "primary" | "replica"): NodeReport {
  const report = health.get(url)?.report;
  const fallback: NodeReport = {
    url,
    role,
    healthy: false,
    openUntil: 0,
    lagBytes: null,
    lagMs: null,
    replayLsn: null,
    paused: false,
    error: "never checked",
    checkedAt: 0,
  };
  return { ...(report ?? fallback), role, url: redact(url) };
}

/** Connection strings carry passwords: reports show host, port and database only. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparseable url)";
  }
}
