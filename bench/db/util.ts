/**
 * Small shared pieces of the database benchmark: percentiles, formatting, CPU sampling, a
 * persistent connection helper on the same driver and proxy as the worker.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "../../src/db/schema.ts";
import type { Db } from "../../src/db/connect.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type Dist = { n: number; p50: number; p90: number; p99: number; max: number; mean: number };

/** Nearest-rank percentiles; every field NaN for an empty list. */
export function dist(values: readonly number[]): Dist {
  if (values.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1)!, mean };
}

export const fmt = (n: number | undefined | null, digits = 1): string =>
  n === undefined || n === null || Number.isNaN(n) ? "–" : n.toFixed(digits);

export const fmtInt = (n: number | undefined | null): string =>
  n === undefined || n === null || Number.isNaN(n) ? "–" : Math.round(n).toLocaleString("en-US");

/** Whole-machine CPU counters from /proc/stat (jiffies), to say how busy the box was. */
export type CpuSample = { busy: number; total: number };
export function cpuSample(): CpuSample {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}
/** Fraction of all CPUs busy between two samples (0…1). */
export const busyBetween = (a: CpuSample, b: CpuSample): number =>
  b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : NaN;

/**
 * A kept-open pool on the same driver (Neon's, over the local WebSocket proxy) as the worker:
 * for monitors and the "persistent connection" variants. The worker itself opens one short
 * connection per flush or read (src/db/connect.ts, withDb).
 */
export function openPool(url: string, max = 1): { pool: Pool; db: Db; close(): Promise<void> } {
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  pool.on("error", () => undefined);
  return {
    pool,
    db: drizzle({ client: pool, schema }),
    close: () => pool.end().catch(() => undefined),
  };
}

/** Resolves to `fallback` if `work` takes longer than `ms` (the work itself goes on). */
export async function bounded<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error's message with its cause (drizzle wraps the driver's error: "Failed query: …"). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && "code" in cause ? ` [${String((cause as { code: unknown }).code)}]` : "";
  const head = error.message.split("\n")[0]!.slice(0, 120);
  return cause ? `${cause.message}${code} (in: ${head}…)` : head;
}

/** CPU time (ms) and parent of every process now, from /proc (Linux; empty elsewhere). */
export type ProcTable = {
  at: number;
  procs: Map<number, { name: string; ppid: number; cpuMs: number }>;
};
export function procTable(): ProcTable {
  const procs = new Map<number, { name: string; ppid: number; cpuMs: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return { at: Date.now(), procs };
  }
  for (const e of entries) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = raw.lastIndexOf(")");
      const fields = raw.slice(close + 2).split(" ");
      procs.set(Number(e), {
        name: raw.slice(raw.indexOf("(") + 1, close),
        ppid: Number(fields[1]),
        cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, // USER_HZ = 100
      });
    } catch {
      // gone meanwhile
    }
  }
  return { at: Date.now(), procs };
}

function descendantsOf(table: ProcTable, roots: readonly number[]): Set<number> {
  const want = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of table.procs)
      if (!want.has(pid) && want.has(p.ppid)) {
        want.add(pid);
        grew = true;
      }
  }
  return want;
}

/**
 * CPU used between two tables by group, in % of one core (200% = both cores of this machine):
 * this run's postgres (the three postmasters and their backends), this run's workerd, this
 * benchmark's node process, its proxy, and other (everything else on the machine, e.g. other
 * people's tests, which share the CPUs).
 */
export function cpuByGroup(
  a: ProcTable,
  b: ProcTable,
  ours: { proxyPid?: number; postmasters: readonly number[] },
): Record<string, number> {
  const wall = Math.max(1, b.at - a.at);
  const postgres = descendantsOf(b, ours.postmasters);
  const mine = descendantsOf(b, [process.pid]);
  const out: Record<string, number> = {
    postgres: 0,
    workerd: 0,
    "bench node": 0,
    "ws proxy": 0,
    other: 0,
  };
  for (const [pid, p] of b.procs) {
    const used = p.cpuMs - (a.procs.get(pid)?.cpuMs ?? 0);
    if (used <= 0) continue;
    const group =
      pid === process.pid
        ? "bench node"
        : pid === ours.proxyPid
          ? "ws proxy"
          : postgres.has(pid)
            ? "postgres"
            : mine.has(pid) && p.name.startsWith("workerd")
              ? "workerd"
              : "other";
    out[group]! += used;
  }
  for (const k of Object.keys(out)) out[k] = (out[k]! / wall) * 100;
  return out;
}

/** The postmaster pids of the cluster's nodes (first line of each postmaster.pid). */
export function postmasterPids(dataDir: string): number[] {
  const pids: number[] = [];
  for (const node of ["primary", "replica1", "replica2"]) {
    try {
      const pid = Number(readFileSync(`${dataDir}/${node}/postmaster.pid`, "utf8").split("\n")[0]);
      if (pid > 0) pids.push(pid);
    } catch {
      // not running
    }
  }
  return pids;
}
