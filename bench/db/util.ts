/**
 * Small shared pieces of the database benchmark: percentiles, formatting, CPU sampling, a
 * persistent connection helper on the same driver and proxy as the worker.
 */
import { readFileSync } from "node:fs";
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
