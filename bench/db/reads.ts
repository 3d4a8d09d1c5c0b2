/**
 * Read throughput: `searchMessages` (src/db/reads.ts) as a guest (so the "rooms you may read"
 * filter runs), K concurrent readers in a closed loop for `seconds`, search terms round-robin
 * over SEARCH_TERMS. Targets:
 *  - primary:         ReadRouter(primary, [])           → one short connection per read, primary
 *  - router:          ReadRouter(primary, [r1, r2])     → as the worker is configured: first
 *                     healthy replica (so replica 1 takes it all), with its per-read state check
 *  - router-spread:   half the readers ReadRouter(primary, [r1, r2]), half [r2, r1]
 *  - primary-kept:    searchMessages on a kept-open pool of K connections to the primary (no
 *                     per-read connection set-up; the query cost alone)
 *  - replicas-kept:   the same on kept-open pools to the two replicas, readers split evenly
 *  - worker:          GET /api/search through the real worker with a guest token
 */
import { ReadRouter } from "../../src/db/replicas.ts";
import { searchMessages } from "../../src/db/reads.ts";
import type { Actor } from "../../src/identity/actor.ts";
import { SEARCH_TERMS } from "./synthetic.ts";
import { describe, dist, openPool, type Dist } from "./util.ts";

export type ReadTarget =
  "primary" | "router" | "router-spread" | "primary-kept" | "replicas-kept" | "worker";

export type ReadResult = {
  target: ReadTarget;
  readers: number;
  seconds: number;
  from: number;
  to: number;
  queries: number;
  qps: number;
  latencyMs: Dist;
  errors: number;
  firstError: string | null;
  servedBy: Record<string, number>;
  hitsPerQuery: number;
  /** Latency per search term (label → p50 ms), to show what the mix is made of. */
  perTerm: Record<string, { n: number; p50: number; p99: number }>;
};

const READER: Actor = { id: "g_bench_reader", name: "bench reader", kind: "guest" };

export async function runReads(
  target: ReadTarget,
  urls: { primary: string; replicas: readonly string[]; server?: string; token?: string },
  readers: number,
  seconds: number,
): Promise<ReadResult> {
  const keptPools =
    target === "primary-kept"
      ? [openPool(urls.primary, readers)]
      : target === "replicas-kept"
        ? urls.replicas.map((url) => openPool(url, Math.ceil(readers / urls.replicas.length)))
        : [];
  const label = (url: string) =>
    url === urls.primary ? "primary" : `replica-${urls.replicas.indexOf(url) + 1}`;
  const routers = Array.from({ length: readers }, (_, i) =>
    target === "primary"
      ? new ReadRouter(urls.primary, [], 5000)
      : target === "router-spread" && i % 2 === 1
        ? new ReadRouter(urls.primary, [...urls.replicas].reverse(), 5000)
        : new ReadRouter(urls.primary, urls.replicas, 5000),
  );
  const latencies: number[] = [];
  const perTerm = new Map<string, number[]>();
  const servedBy: Record<string, number> = {};
  let errors = 0;
  let firstError: string | null = null;
  let hits = 0;
  const from = Date.now();
  const end = from + seconds * 1000;
  let next = 0;
  try {
    await Promise.all(
      routers.map(async (router, i) => {
        const kept = keptPools.length ? keptPools[i % keptPools.length] : undefined;
        const keptLabel =
          target === "replicas-kept" ? `replica-${(i % keptPools.length) + 1}` : "primary";
        while (Date.now() < end) {
          const term = SEARCH_TERMS[next++ % SEARCH_TERMS.length]!;
          const t0 = performance.now();
          try {
            let served = "";
            let count = 0;
            if (target === "worker") {
              const res = await fetch(
                `${urls.server}/api/search?q=${encodeURIComponent(term.q)}&limit=20`,
                { headers: { authorization: `Bearer ${urls.token}` } },
              );
              if (res.status !== 200)
                throw new Error(
                  `GET /api/search: ${res.status} ${(await res.text()).slice(0, 200)}`,
                );
              served = res.headers.get("x-edgechat-served-by") ?? "?";
              count = ((await res.json()) as { results: unknown[] }).results.length;
            } else if (kept) {
              count = (await searchMessages(kept.db, READER, term.q, 21, 0)).length;
              served = keptLabel;
            } else {
              const { value, servedBy: url } = await router.read((db) =>
                searchMessages(db, READER, term.q, 21, 0),
              );
              count = value.length;
              served = label(url);
            }
            const ms = performance.now() - t0;
            if (Date.now() <= end) {
              latencies.push(ms);
              hits += count;
              servedBy[served] = (servedBy[served] ?? 0) + 1;
              if (!perTerm.has(term.label)) perTerm.set(term.label, []);
              perTerm.get(term.label)!.push(ms);
            }
          } catch (error) {
            errors += 1;
            firstError ??= describe(error);
            if (errors > 50) throw error;
          }
        }
      }),
    );
  } finally {
    await Promise.all(keptPools.map((pool) => pool.close()));
  }
  return {
    target,
    readers,
    seconds,
    from,
    to: Date.now(),
    queries: latencies.length,
    qps: latencies.length / seconds,
    latencyMs: dist(latencies),
    errors,
    firstError,
    servedBy,
    hitsPerQuery: latencies.length ? hits / latencies.length : NaN,
    perTerm: Object.fromEntries(
      [...perTerm].map(([k, v]) => {
        const d = dist(v);
        return [k, { n: d.n, p50: d.p50, p99: d.p99 }];
      }),
    ),
  };
}
