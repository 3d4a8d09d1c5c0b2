/** Small helpers shared by the benchmark's modules. */
import { performance } from "node:perf_hooks";

export type Percentiles = {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  n: number;
};

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on this machine. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function percentiles(values: Float64Array | number[]): Percentiles {
  const n = values.length;
  if (n === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN, n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let total = 0;
  for (const v of sorted) total += v;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[n - 1]!, mean: total / n, n };
}

/** A growable Float64 sample buffer (millions of latency samples without boxing). */
export class Samples {
  #buf = new Float64Array(1 << 16);
  #n = 0;
  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }
  values(): Float64Array {
    return this.#buf.subarray(0, this.#n);
  }
}

/** Runs `run` over `items`, `size` at a time, optionally pausing between groups. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
  pauseMs = 0,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(run));
    if (pauseMs > 0 && i + size < items.length) await sleep(pauseMs);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** Adds one to `counts[key]`. */
export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export const sum = (o: Record<string, number> | undefined) =>
  Object.values(o ?? {}).reduce((a, b) => a + b, 0);

/**
 * Makes `stop` (the servers' shutdown) run before the process exits, whatever ends the run:
 * Ctrl-C or SIGTERM (130), an error thrown outside the run's own chain (1), or the returned
 * `stopAndExit(code)` called by the run itself. An error thrown in a socket's callback would
 * otherwise exit at once, past the stop: the servers' processes die with the bench, their
 * storage stays behind. Also says whether a stop is under way, so that errors it causes are not
 * reported as news.
 */
export function stopOnExit(stop: () => Promise<unknown>) {
  let stopping = false;
  const stopAndExit = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(code));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      console.error(`bench: ${signal}: stopping`);
      stopAndExit(130);
    });
  process.once("uncaughtException", (error) => {
    console.error(error);
    stopAndExit(1);
  });
  return { stopAndExit, stopping: () => stopping };
}
