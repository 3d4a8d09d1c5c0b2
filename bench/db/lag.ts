/**
 * Replication lag, sampled continuously while the benchmark writes, reported per phase window:
 *  - replay-time lag: a marker row (id, sent-at) is inserted on the primary every `markerEveryMs`;
 *    each replica is polled (`SELECT max(id) FROM bench_markers`) every `pollEveryMs` on a kept-open
 *    connection; lag = first poll that sees the marker − the primary's commit ack of that marker.
 *    Resolution ≈ poll interval + one round trip; a marker seen before its ack counts as 0.
 *  - byte lag: every `markerEveryMs`, pg_current_wal_lsn() on the primary, then on each replica
 *    pg_wal_lsn_diff(that lsn, pg_last_wal_replay_lsn()) (the round trip between the two queries
 *    makes it slightly pessimistic).
 * All through the same driver and proxy as the worker, on 6 kept-open connections.
 */
import { describe, sleep, openPool, dist, type Dist } from "./util.ts";

export type MarkerSample = { id: number; ackAt: number; sentAt: number; seenAt: (number | null)[] };
export type ByteSample = { at: number; bytes: (number | null)[] };

export type LagWindow = {
  markers: number;
  /** Per replica: markers never seen within the window (+ 5 s grace). */
  unseen: number[];
  lagMs: Dist[];
  bytes: Dist[];
  markerCommitMs: Dist;
};

export const MARKER_DDL =
  "CREATE TABLE IF NOT EXISTS bench_markers (id bigint PRIMARY KEY, sent_at bigint NOT NULL)";

export class LagMonitor {
  readonly markers: MarkerSample[] = [];
  readonly bytes: ByteSample[] = [];
  readonly errors: string[] = [];
  #running = false;
  #loops: Promise<void>[] = [];
  #closers: (() => Promise<void>)[] = [];
  readonly #primary: string;
  readonly #replicas: readonly string[];
  readonly #markerEveryMs: number;
  readonly #pollEveryMs: number;

  constructor(primary: string, replicas: readonly string[], markerEveryMs = 100, pollEveryMs = 5) {
    this.#primary = primary;
    this.#replicas = replicas;
    this.#markerEveryMs = markerEveryMs;
    this.#pollEveryMs = pollEveryMs;
  }

  #note(error: unknown): void {
    if (this.errors.length < 20) this.errors.push(describe(error));
  }

  start(): void {
    this.#running = true;
    const marker = openPool(this.#primary);
    const primaryLsn = openPool(this.#primary);
    const pollers = this.#replicas.map((url) => openPool(url));
    const lsnReaders = this.#replicas.map((url) => openPool(url));
    for (const p of [marker, primaryLsn, ...pollers, ...lsnReaders]) this.#closers.push(p.close);

    // markers on the primary
    this.#loops.push(
      (async () => {
        let id = 0;
        const t0 = Date.now();
        while (this.#running) {
          const due = t0 + (id + 1) * this.#markerEveryMs;
          await sleep(Math.max(0, due - Date.now()));
          if (!this.#running) break;
          id += 1;
          const sentAt = Date.now();
          const sample: MarkerSample = {
            id,
            sentAt,
            ackAt: NaN,
            seenAt: this.#replicas.map(() => null),
          };
          try {
            await marker.pool.query("INSERT INTO bench_markers (id, sent_at) VALUES ($1, $2)", [
              id,
              sentAt,
            ]);
            sample.ackAt = Date.now();
            this.markers.push(sample);
          } catch (error) {
            this.#note(error);
          }
        }
      })(),
    );

    // replica pollers
    pollers.forEach((poller, r) => {
      this.#loops.push(
        (async () => {
          let seen = 0;
          while (this.#running) {
            try {
              const res = await poller.pool.query(
                "SELECT coalesce(max(id), 0)::int AS id FROM bench_markers",
              );
              const now = Date.now();
              const max = Number((res.rows[0] as { id: number }).id);
              if (max > seen) {
                for (const m of this.markers)
                  if (m.id > seen && m.id <= max && m.seenAt[r] === null) m.seenAt[r] = now;
                seen = max;
              }
            } catch (error) {
              this.#note(error);
              await sleep(100);
            }
            await sleep(this.#pollEveryMs);
          }
        })(),
      );
    });

    // byte lag
    this.#loops.push(
      (async () => {
        while (this.#running) {
          const started = Date.now();
          try {
            const res = await primaryLsn.pool.query("SELECT pg_current_wal_lsn()::text AS lsn");
            const lsn = (res.rows[0] as { lsn: string }).lsn;
            const bytes = await Promise.all(
              lsnReaders.map(async (reader) => {
                try {
                  const r = await reader.pool.query(
                    "SELECT greatest(0, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()))::bigint AS b",
                    [lsn],
                  );
                  return Number((r.rows[0] as { b: string }).b);
                } catch (error) {
                  this.#note(error);
                  return null;
                }
              }),
            );
            this.bytes.push({ at: started, bytes });
          } catch (error) {
            this.#note(error);
          }
          await sleep(Math.max(0, started + this.#markerEveryMs - Date.now()));
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    await Promise.all(this.#closers.map((close) => close()));
  }

  /** Lag statistics of the markers sent and byte samples taken within [from, to]. */
  window(from: number, to: number): LagWindow {
    const markers = this.markers.filter((m) => m.sentAt >= from && m.sentAt <= to);
    const bytes = this.bytes.filter((b) => b.at >= from && b.at <= to);
    return {
      markers: markers.length,
      unseen: this.#replicas.map((_, r) => markers.filter((m) => m.seenAt[r] === null).length),
      lagMs: this.#replicas.map((_, r) =>
        dist(
          markers.flatMap((m) =>
            m.seenAt[r] === null ? [] : [Math.max(0, m.seenAt[r]! - m.ackAt)],
          ),
        ),
      ),
      bytes: this.#replicas.map((_, r) =>
        dist(
          bytes.flatMap((b) =>
            b.bytes[r] === null || b.bytes[r] === undefined ? [] : [b.bytes[r]!],
          ),
        ),
      ),
      markerCommitMs: dist(markers.map((m) => m.ackAt - m.sentAt)),
    };
  }
}
