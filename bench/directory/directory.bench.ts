/**
 * One run of the directory benchmark (bench/directory/run.ts starts one per shard count, each
 * on fresh storage): BENCH_ROOMS summaries into BENCH_SHARDS shards, then how fast updates go
 * in and how long a first page and a deep page take, in each sort and with a name prefix. Runs
 * inside workerd against the real Directory objects and the listing code the route calls
 * (`listRooms`): it measures the objects and the merge, not HTTP.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { RoomInfo, RoomSort } from "../../src/protocol/index.ts";
import { directoryFor, listRooms } from "../../src/directory/shards.ts";
import { encodeCursor, placeOf, snapshotOf } from "../../src/directory/listing.ts";

const bench = env as unknown as { BENCH_ROOMS: string; BENCH_SHARDS: string };
const ROOMS = Number(bench.BENCH_ROOMS);
const SHARDS = Number(bench.BENCH_SHARDS);
const CONCURRENCY = 64;
const SAMPLES = 30;

type Row = Record<string, string | number>;

/** A room's summary; figures spread so that the sorts differ. */
function summary(i: number): RoomInfo {
  return {
    name: `room-${i.toString(36).padStart(4, "0")}`,
    topic: `topic ${i}`,
    visibility: i % 10 === 0 ? "private" : "public",
    createdAt: 1_700_000_000_000 + i * 1000,
    lastSeq: (i * 7919) % 100_000,
    members: (i * 104_729) % 5_000,
    online: (i * 31) % 50,
  };
}

/** `count` calls of `run`, `CONCURRENCY` at a time; the rate they went at (calls/s). */
async function pump(count: number, run: (i: number) => Promise<unknown>): Promise<number> {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await run(next++);
    }),
  );
  return (count / (Date.now() - started)) * 1000;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** SAMPLES runs one after another: a page's latency alone, not behind the others. */
async function sequential(run: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) times.push(await run());
  return times;
}

const p = (values: number[], q: number) =>
  values.toSorted((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

{
  const shards = SHARDS;
  it(`${ROOMS} rooms over ${shards} shard(s)`, async () => {
    const shardEnv = { ...env, DIRECTORY_SHARDS: String(shards) } as Env;
    const inserts = await pump(ROOMS, (i) =>
      directoryFor(shardEnv, summary(i).name).upsert(summary(i)),
    );
    const updates = await pump(ROOMS / 5, (i) => {
      const room = summary((i * 7) % ROOMS);
      return directoryFor(shardEnv, room.name).upsert({ ...room, online: room.online + 1 });
    });
    const list = (sort: RoomSort, extra: object = {}) =>
      listRooms(shardEnv, { limit: 50, sort, prefix: "", ...extra });
    // The first listing of a minute takes the snapshot on every shard.
    const snapshotMs = await timed(() => list("activity"));
    const row: Row = {
      shards,
      "inserts/s": Math.round(inserts),
      "updates/s": Math.round(updates),
      "first page, snapshot taken (ms)": snapshotMs.toFixed(1),
    };
    for (const sort of ["activity", "newest", "members"] as const) {
      const first = await sequential(() => timed(() => list(sort)));
      // A page half way down: the cursor of the room at that place in the snapshot.
      const publicRooms = Array.from({ length: ROOMS }, (_, i) => summary(i)).filter(
        (r) => r.visibility === "public",
      );
      const ordered = publicRooms
        .map((r) => placeOf(sort, r))
        .sort(
          (a, b) =>
            a.keys[0]! - b.keys[0]! ||
            (a.keys[1] ?? 0) - (b.keys[1] ?? 0) ||
            (a.name < b.name ? -1 : 1),
        );
      const middle = ordered[Math.floor(ordered.length / 2)]!;
      const cursor = {
        v: 1 as const,
        snapshot: snapshotOf(Date.now()),
        sort,
        prefix: "",
        after: middle,
      };
      const deep = await sequential(() => timed(() => list(sort, { cursor })));
      const page = await list(sort, { cursor });
      expect(page?.rooms).toHaveLength(50);
      expect(encodeCursor(cursor)).toBeTruthy();
      row[`${sort} first p50/p99 ms`] =
        `${p(first, 0.5).toFixed(1)} / ${p(first, 0.99).toFixed(1)}`;
      row[`${sort} deep p50/p99 ms`] = `${p(deep, 0.5).toFixed(1)} / ${p(deep, 0.99).toFixed(1)}`;
    }
    const prefixed = await sequential(() => timed(() => list("activity", { prefix: "room-1z" })));
    row["prefix first p50/p99 ms"] =
      `${p(prefixed, 0.5).toFixed(1)} / ${p(prefixed, 0.99).toFixed(1)}`;
    console.log(`BENCH_ROW ${JSON.stringify(row)}`);
  });
}
