/**
 * `npm run bench:db`: the Postgres side of edgechat on one fresh local cluster (primary + two
 * streaming replicas + the WebSocket proxy): flush throughput (the flush function alone against
 * a plain batched INSERT ceiling, and end to end through the real worker), replication lag under
 * that load, and search throughput on the primary versus the replicas. See bench/db/README.md.
 *
 *   node bench/db.ts                        everything, ~4 minutes
 *   --rooms 1,4,10  --direct-seconds 4      the flushEvents / ceiling sweep
 *   --e2e-rooms 10  --e2e-seconds 10  --in-flight 40  --guests 2 (per room)
 *   --readers 8  --read-seconds 8
 *   --skip-e2e  (no worker: no end-to-end flush and no GET /api/search)   --out FILE
 */
import { cpus, loadavg } from "node:os";
import { writeResults } from "./results.ts";
import { parseArgs } from "node:util";
import { neonConfig } from "@neondatabase/serverless";
import WebSocket from "ws";
import { applyMigrations } from "../scripts/db-migrate.ts";
import { useLocalProxy, withDb } from "../src/db/connect.ts";
import { EdgechatApi } from "../src/client/index.ts";
import { startServer, type TestServer } from "../test/support/server.ts";
import { databaseVars } from "../test/support/cluster.ts";
import { startBenchCluster, type BenchCluster } from "./db/cluster.ts";
import {
  measureConnect,
  PLAIN_DDL,
  runDirect,
  type ConnectCost,
  type DirectConfig,
  type DirectResult,
} from "./db/direct.ts";
import { runE2e, type E2eResult } from "./db/e2e.ts";
import { LagMonitor, MARKER_DDL, type LagWindow } from "./db/lag.ts";
import { runReads, type ReadResult, type ReadTarget } from "./db/reads.ts";
import { SEARCH_TERMS } from "./db/synthetic.ts";
import {
  busyBetween,
  cpuByGroup,
  cpuSample,
  fmt,
  fmtInt,
  postmasterPids,
  procTable,
  sleep,
  bounded,
} from "./db/util.ts";
import { sql } from "drizzle-orm";

const { values: flags } = parseArgs({
  options: {
    rooms: { type: "string", default: "1,4,10" },
    "direct-seconds": { type: "string", default: "4" },
    "e2e-rooms": { type: "string", default: "10" },
    "e2e-seconds": { type: "string", default: "10" },
    "in-flight": { type: "string", default: "40" },
    guests: { type: "string", default: "2" },
    readers: { type: "string", default: "8" },
    "read-seconds": { type: "string", default: "8" },
    "skip-e2e": { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  console.log(
    "usage: node bench/db.ts [--rooms 1,4,10] [--direct-seconds S] [--e2e-rooms N] [--e2e-seconds S]\n" +
      "       [--in-flight N] [--guests N] [--readers K] [--read-seconds S] [--skip-e2e] [--out FILE]",
  );
  process.exit(0);
}
const num = (name: keyof typeof flags): number => {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number`);
  return n;
};
const roomsList = String(flags.rooms)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);

const log = (line: string) => console.error(line);

/** `deadlocks`: pg_stat_database.deadlocks on the primary, its rise over the phase (+1 s). */
type Phase = {
  name: string;
  from: number;
  to: number;
  busy: number;
  deadlocks?: number;
  lag?: LagWindow;
  /** % of one core by process group (util.ts cpuByGroup). */
  cpu?: Record<string, number>;
};
type DirectRow = DirectResult & { busy: number; deadlocks: number };

async function deadlocks(url: string): Promise<number> {
  const [row] = await q<{ n: string }>(
    url,
    "SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(row?.n ?? 0);
}

let cluster: BenchCluster | undefined;
let server: TestServer | undefined;
let monitor: LagMonitor | undefined;

/** This run's processes, for the CPU table. */
const ours = () => ({
  proxyPid: cluster?.proxyPid,
  postmasters: cluster ? postmasterPids(cluster.dataDir) : [],
});

async function cleanup(): Promise<void> {
  await bounded(monitor?.stop() ?? Promise.resolve(), 5_000, undefined).catch(() => undefined);
  await bounded(server?.dispose() ?? Promise.resolve(), 20_000, undefined).catch(() => undefined);
  server = undefined;
  await bounded(cluster?.stop() ?? Promise.resolve(), 30_000, undefined).catch(() => undefined);
  cluster = undefined;
}

async function q<T>(url: string, text: string): Promise<T[]> {
  return withDb(url, async (db) => (await db.execute(sql.raw(text))).rows as T[]);
}

async function waitReplicasCaughtUp(c: BenchCluster, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const [{ lsn }] = (await q<{ lsn: string }>(
    c.primaryUrl,
    "SELECT pg_current_wal_lsn()::text AS lsn",
  )) as [{ lsn: string }];
  while (Date.now() - started < timeoutMs) {
    const behind = await Promise.all(
      c.replicaUrls.map(async (url) => {
        const [row] = await q<{ b: string }>(
          url,
          `SELECT greatest(0, pg_wal_lsn_diff('${lsn}'::pg_lsn, pg_last_wal_replay_lsn()))::bigint AS b`,
        );
        return Number(row?.b ?? 1);
      }),
    );
    if (behind.every((b) => b === 0)) return Date.now() - started;
    await sleep(50);
  }
  return NaN;
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = loadavg();
  const directSeconds = num("direct-seconds");
  const phases: Phase[] = [];
  const direct: DirectRow[] = [];
  let e2e: E2eResult | undefined;
  const reads: ReadResult[] = [];

  log("starting a fresh cluster (primary + 2 replicas) and the proxy…");
  neonConfig.webSocketConstructor = WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  cluster = await startBenchCluster(() => undefined);
  useLocalProxy(cluster.proxyAddress);
  await applyMigrations(cluster.primaryUrl, cluster.proxyAddress);
  await q(cluster.primaryUrl, PLAIN_DDL);
  await q(cluster.primaryUrl, MARKER_DDL);
  const [{ version }] = (
    await q<{ version: string }>(cluster.primaryUrl, "SHOW server_version")
  ).map((r) => ({
    version: (r as unknown as { server_version: string }).server_version,
  })) as [{ version: string }];
  const pgSettings = await q<{ name: string; setting: string }>(
    cluster.primaryUrl,
    "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit','fsync','wal_level','shared_buffers','max_wal_senders')",
  );
  log(`PostgreSQL ${version}; ${pgSettings.map((s) => `${s.name}=${s.setting}`).join(", ")}`);
  await waitReplicasCaughtUp(cluster, 10_000);
  const connect = await measureConnect(cluster.primaryUrl);
  log(
    `connection set-up (withDb + SELECT 1) p50/p99 ${fmt(connect.perConnectionMs.p50)}/${fmt(connect.perConnectionMs.p99)} ms; kept-open SELECT 1 p50 ${fmt(connect.keptRoundTripMs.p50, 2)} ms`,
  );

  monitor = new LagMonitor(cluster.primaryUrl, cluster.replicaUrls);
  monitor.start();
  await sleep(1500);
  const idle0 = cpuSample();
  const idleP = procTable();
  const idleFrom = Date.now();
  await sleep(2000);
  phases.push({
    name: "idle (monitors only)",
    from: idleFrom,
    to: Date.now(),
    busy: busyBetween(idle0, cpuSample()),
    cpu: cpuByGroup(idleP, procTable(), ours()),
  });

  // ---- 1b: flushEvents alone vs the ceiling
  const configs: DirectConfig[] = [];
  for (const connections of ["per-batch", "kept"] as const)
    for (const rooms of roomsList)
      for (const writer of ["flush", "ceiling"] as const)
        configs.push({
          writer,
          rooms,
          connections,
          mix: "posts",
          sharedUsers: false,
          seconds: directSeconds,
        });
  const maxRooms = Math.max(...roomsList);
  const mixedRooms = roomsList.includes(4) ? 4 : roomsList[0]!;
  configs.push(
    {
      writer: "flush",
      rooms: mixedRooms,
      connections: "per-batch",
      mix: "mixed",
      sharedUsers: false,
      seconds: directSeconds,
    },
    {
      writer: "flush",
      rooms: maxRooms,
      connections: "per-batch",
      mix: "posts",
      sharedUsers: true,
      seconds: directSeconds,
    },
  );
  for (const config of configs) {
    const d0 = await deadlocks(cluster.primaryUrl);
    const c0 = cpuSample();
    const p0 = procTable();
    const result = await runDirect(cluster.primaryUrl, config);
    const busy = busyBetween(c0, cpuSample());
    const cpu = cpuByGroup(p0, procTable(), ours());
    await sleep(1000);
    const dl = (await deadlocks(cluster.primaryUrl)) - d0;
    direct.push({ ...result, busy, deadlocks: dl });
    phases.push({
      name: `direct: ${result.label}`,
      from: result.from,
      to: result.to,
      busy,
      deadlocks: dl,
      cpu,
    });
    log(
      `  ${result.label}: ${fmtInt(result.eventsPerS)} events/s, batch p50/p99 ${fmt(result.batchMs.p50)}/${fmt(result.batchMs.p99)} ms, CPU ${fmt(busy * 100, 0)}%` +
        (result.errors
          ? `, ${result.errors} failed batches (${dl} deadlocks): ${result.firstError}`
          : ""),
    );
  }

  // ---- 1a: end to end through the worker
  let token: string | undefined;
  if (!flags["skip-e2e"]) {
    log("starting the worker (wrangler unstable_startWorker) against the cluster…");
    server = await startServer({ vars: databaseVars(cluster, { ADMIN_USERNAMES: "root" }) });
    const d0 = await deadlocks(cluster.primaryUrl);
    const c0 = cpuSample();
    const p0 = procTable();
    e2e = await runE2e(
      server.url,
      cluster.primaryUrl,
      {
        rooms: num("e2e-rooms"),
        guestsPerRoom: num("guests"),
        inFlight: num("in-flight"),
        warmupS: 2,
        seconds: num("e2e-seconds"),
        drainS: 60,
        pollMs: 20,
      },
      log,
    );
    const busy = busyBetween(c0, cpuSample());
    const cpu = cpuByGroup(p0, procTable(), ours());
    await sleep(1000);
    const dl = (await deadlocks(cluster.primaryUrl)) - d0;
    phases.push({
      name: "end to end: worker, HTTP posts",
      from: e2e.from,
      to: e2e.to,
      busy,
      deadlocks: dl,
      cpu,
    });
    log(
      `  e2e (${dl} deadlocks on the primary): acked ${fmtInt(e2e.ackedPerS)} posts/s, flushed ${fmtInt(e2e.flushedPerS)} events/s, ack→Postgres p50/p99 ${fmt(e2e.ackToPostgresMs.p50, 0)}/${fmt(e2e.ackToPostgresMs.p99, 0)} ms, drain ${fmt(e2e.drainMs, 0)} ms`,
    );
    token = (await new EdgechatApi(server.url).signInGuest("bench-reader")).token;
  }

  await sleep(2000);
  await monitor.stop();
  for (const phase of phases) phase.lag = monitor.window(phase.from, phase.to);
  const lagErrors = monitor.errors;
  monitor = undefined;

  // ---- 3: reads
  const caughtUpMs = await waitReplicasCaughtUp(cluster, 30_000);
  await q(cluster.primaryUrl, "ANALYZE");
  await waitReplicasCaughtUp(cluster, 30_000);
  const [sizes] = await q<{ messages: string; events: string; rooms: string; bytes: string }>(
    cluster.primaryUrl,
    "SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM rooms) AS rooms, pg_database_size(current_database()) AS bytes",
  );
  const termHits = await Promise.all(
    SEARCH_TERMS.map(async (t) => {
      const [row] = await q<{ n: string }>(
        cluster!.primaryUrl,
        `SELECT count(*) AS n FROM messages WHERE search @@ websearch_to_tsquery('simple', '${t.q.replace(/'/g, "''")}')`,
      );
      return { ...t, matches: Number(row?.n ?? 0) };
    }),
  );
  log(
    `data: ${sizes?.messages} messages, ${sizes?.events} events; replicas caught up ${fmt(caughtUpMs, 0)} ms after the writes`,
  );
  // warm every node's cache with one pass of each term
  for (const url of [cluster.primaryUrl, ...cluster.replicaUrls])
    for (const t of termHits) await runWarm(url, t.q);
  const readers = num("readers");
  const readSeconds = num("read-seconds");
  const targets: ReadTarget[] = [
    "primary",
    "router",
    "router-spread",
    "primary-kept",
    "replicas-kept",
  ];
  if (server && token) targets.push("worker");
  for (const target of targets) {
    const c0 = cpuSample();
    const p0 = procTable();
    const result = await runReads(
      target,
      { primary: cluster.primaryUrl, replicas: cluster.replicaUrls, server: server?.url, token },
      readers,
      readSeconds,
    );
    const busy = busyBetween(c0, cpuSample());
    reads.push(result);
    phases.push({
      name: `reads: ${target}`,
      from: result.from,
      to: result.to,
      busy,
      cpu: cpuByGroup(p0, procTable(), ours()),
    });
    log(
      `  reads ${target}: ${fmt(result.qps)} qps, p50/p99 ${fmt(result.latencyMs.p50)}/${fmt(result.latencyMs.p99)} ms, served by ${JSON.stringify(result.servedBy)}, CPU ${fmt(busy * 100, 0)}%` +
        (result.errors ? `, ${result.errors} errors: ${result.firstError}` : ""),
    );
  }

  await cleanup();
  const elapsed = (Date.now() - started) / 1000;
  const markdown = report({
    started,
    elapsed,
    load0,
    load1: loadavg(),
    version,
    pgSettings,
    connect,
    phases,
    direct,
    e2e,
    reads,
    sizes,
    termHits,
    caughtUpMs,
    lagErrors,
    readers,
    readSeconds,
  });
  console.log(markdown);
  const file = writeResults(
    "db-",
    started,
    elapsed,
    {
      version,
      pgSettings,
      connect,
      flags,
      phases,
      direct,
      e2e,
      reads,
      sizes,
      termHits,
      lagErrors,
      markdown,
    },
    flags.out,
  );
  log(`results: ${file}`);
}

async function runWarm(url: string, term: string): Promise<void> {
  const { searchMessages } = await import("../src/db/reads.ts");
  await withDb(url, (db) => searchMessages(db, { id: "g_warm", name: "warm" }, term, 21, 0));
}

type ReportInput = {
  started: number;
  elapsed: number;
  load0: number[];
  load1: number[];
  version: string;
  pgSettings: { name: string; setting: string }[];
  connect: ConnectCost;
  phases: Phase[];
  direct: DirectRow[];
  e2e: E2eResult | undefined;
  reads: ReadResult[];
  sizes: { messages: string; events: string; rooms: string; bytes: string } | undefined;
  termHits: { label: string; q: string; matches: number }[];
  caughtUpMs: number;
  lagErrors: string[];
  readers: number;
  readSeconds: number;
};

function report(r: ReportInput): string {
  const pct = (x: number) => `${fmt(x * 100, 0)}%`;
  const lines: string[] = [
    `## edgechat database benchmark, ${new Date(r.started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; load average ${r.load0.map((l) => l.toFixed(2)).join(" ")} at start, ` +
      `${r.load1.map((l) => l.toFixed(2)).join(" ")} at end; Node ${process.version}; PostgreSQL ${r.version} ` +
      `(${r.pgSettings.map((s) => `${s.name}=${s.setting}`).join(", ")}). ` +
      "One fresh local cluster: primary + 2 streaming replicas + the WebSocket proxy (own process), all on the same CPUs. " +
      "Driver: drizzle over @neondatabase/serverless through the proxy, as the worker. CPU % = whole machine busy during the phase.",
    "",
    "### 1b. flushEvents alone vs the ceiling (batches of 500 posts, one batch at a time per room)",
    "",
    "Each room has its own 20 users here. Ceiling: the same rows, one multi-row INSERT of 500 into a plain table with the events table's columns (no keys, no indexes).",
    "",
    "| rooms in parallel | connections | flush events/s | ceiling events/s | flush/ceiling | flush batch p50 / p99 ms | ceiling batch p50 / p99 ms | CPU flush / ceiling | failed flush batches |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const find = (
    writer: string,
    rooms: number,
    connections: string,
    mix = "posts",
    shared = false,
  ) =>
    r.direct.find(
      (d) =>
        d.writer === writer &&
        d.rooms === rooms &&
        d.connections === connections &&
        d.mix === mix &&
        d.sharedUsers === shared,
    );
  for (const connections of ["per-batch", "kept"])
    for (const rooms of [...new Set(r.direct.map((d) => d.rooms))]) {
      const f = find("flush", rooms, connections);
      const c = find("ceiling", rooms, connections);
      if (!f || !c) continue;
      lines.push(
        `| ${rooms} | ${connections === "per-batch" ? "one per batch (as the outbox)" : "kept open"} | ${fmtInt(f.eventsPerS)} | ${fmtInt(c.eventsPerS)} | ${fmt(f.eventsPerS / c.eventsPerS, 2)} | ${fmt(f.batchMs.p50, 0)} / ${fmt(f.batchMs.p99, 0)} | ${fmt(c.batchMs.p50, 0)} / ${fmt(c.batchMs.p99, 0)} | ${pct(f.busy)} / ${pct(c.busy)} | ${f.errors} |`,
      );
    }
  const shared = r.direct.find((d) => d.sharedUsers);
  if (shared) {
    const same = find("flush", shared.rooms, shared.connections);
    lines.push(
      "",
      `Shared users (the same 20 users post in all ${shared.rooms} rooms), one connection per batch: **${fmtInt(shared.eventsPerS)} events/s**` +
        (same
          ? ` (${fmt(shared.eventsPerS / same.eventsPerS, 2)}× the same run with per-room users)`
          : "") +
        `, batch p50/p99 ${fmt(shared.batchMs.p50, 0)}/${fmt(shared.batchMs.p99, 0)} ms, ${shared.errors} failed batches, ${shared.deadlocks} deadlocks on the primary` +
        (shared.firstError ? ` (first: ${shared.firstError})` : "") +
        ".",
    );
  }
  const mixed = r.direct.find((d) => d.mix === "mixed");
  if (mixed) {
    const postsSame = find("flush", mixed.rooms, mixed.connections);
    lines.push(
      "",
      `Mixed events (90% posts, 6% reactions, 2% edits, 1% deletes, joins), ${mixed.rooms} rooms, one connection per batch: ` +
        `**${fmtInt(mixed.eventsPerS)} events/s** (batch p50/p99 ${fmt(mixed.batchMs.p50, 0)}/${fmt(mixed.batchMs.p99, 0)} ms)` +
        (postsSame
          ? `, ${fmt(mixed.eventsPerS / postsSame.eventsPerS, 2)}× the posts-only flush.`
          : "."),
    );
  }
  lines.push(
    "",
    `One short connection (withDb + SELECT 1, sequential, idle cluster): p50 ${fmt(r.connect.perConnectionMs.p50)} ms, p99 ${fmt(r.connect.perConnectionMs.p99)} ms; ` +
      `the same SELECT 1 on a kept-open connection: p50 ${fmt(r.connect.keptRoundTripMs.p50, 2)} ms.`,
  );
  const errs = r.direct.filter((d) => d.errors);
  if (errs.length)
    lines.push(
      "",
      `Failed batches (retried after 250 ms, as the outbox does): ${errs.map((d) => `${d.label}: ${d.errors}, first: ${d.firstError}`).join("; ")}`,
    );

  if (r.e2e) {
    const e = r.e2e;
    lines.push(
      "",
      `### 1a. End to end: the worker, ${e.rooms} rooms, ${e.inFlight} HTTP posts in flight from ${e.guestsPerRoom} guests per room, ${e.seconds} s (+${e.warmupS} s warm-up)`,
      "",
      "| metric | value |",
      "| --- | ---: |",
      `| acked posts/s (POST /api/rooms/{room}/messages) | ${fmtInt(e.ackedPerS)} |`,
      `| flushed events/s (sum of room_cursors advance) | ${fmtInt(e.flushedPerS)} |`,
      `| post ack latency p50 / p99 ms | ${fmt(e.ackMs.p50, 1)} / ${fmt(e.ackMs.p99, 1)} |`,
      `| ack → in Postgres p50 / p99 / max ms | ${fmt(e.ackToPostgresMs.p50, 0)} / ${fmt(e.ackToPostgresMs.p99, 0)} / ${fmt(e.ackToPostgresMs.max, 0)} |`,
      `| acks whose seq reached Postgres (of acked in window) | ${e.ackToPostgresMs.n} / ${e.acked} |`,
      `| largest backlog seen (acked − flushed, all rooms) | ${fmtInt(e.maxBacklog)} |`,
      `| drain after the last ack ms | ${fmt(e.drainMs, 0)} |`,
      `| post errors | ${e.postErrors}${e.firstPostError ? ` (${e.firstPostError})` : ""} |`,
      `| deadlocks on the primary during the phase | ${r.phases.find((p) => p.name.startsWith("end to end"))?.deadlocks ?? "–"} |`,
      `| CPU during the window | ${pct(r.phases.find((p) => p.name.startsWith("end to end"))?.busy ?? NaN)} |`,
      "",
      `room_cursors polled every ${e.pollMs} ms on a kept-open connection (${e.polls} polls): the delay resolution is ~${e.pollMs} ms + a round trip. The flush runs ${"200"} ms after a commit by design.`,
    );
  }

  lines.push(
    "",
    "### 2. Replication lag during each phase (marker every 100 ms, replicas polled every 5 ms; bytes sampled every 100 ms)",
    "",
    "| phase | CPU | markers | replica 1 lag ms p50 / p99 / max | replica 2 lag ms p50 / p99 / max | replica 1 bytes p50 / p99 / max | replica 2 bytes p50 / p99 / max | marker commit p50 / p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const kb = (n: number) =>
    Number.isNaN(n)
      ? "–"
      : n >= 1024 * 1024
        ? `${fmt(n / 1024 / 1024, 1)} MB`
        : n >= 1024
          ? `${fmt(n / 1024, 0)} kB`
          : `${fmt(n, 0)} B`;
  for (const p of r.phases) {
    if (!p.lag) continue;
    const l = p.lag;
    const lag = (i: number) =>
      `${fmt(l.lagMs[i]?.p50, 0)} / ${fmt(l.lagMs[i]?.p99, 0)} / ${fmt(l.lagMs[i]?.max, 0)}${l.unseen[i] ? ` (${l.unseen[i]} unseen)` : ""}`;
    const bytes = (i: number) =>
      `${kb(l.bytes[i]?.p50 ?? NaN)} / ${kb(l.bytes[i]?.p99 ?? NaN)} / ${kb(l.bytes[i]?.max ?? NaN)}`;
    lines.push(
      `| ${p.name} | ${pct(p.busy)} | ${l.markers} | ${lag(0)} | ${lag(1)} | ${bytes(0)} | ${bytes(1)} | ${fmt(l.markerCommitMs.p50, 1)} / ${fmt(l.markerCommitMs.p99, 1)} |`,
    );
  }
  if (r.lagErrors.length) lines.push("", `Monitor errors: ${r.lagErrors.slice(0, 5).join("; ")}`);

  const primary = r.reads.find((x) => x.target === "primary");
  const names: Record<ReadTarget, string> = {
    primary: "(a) primary alone — ReadRouter(primary, [])",
    router: "(b) ReadRouter(primary, [r1, r2]) as configured",
    "router-spread": "(b') ReadRouter, half the readers [r2, r1]",
    "primary-kept": "(a, kept) primary, kept-open pool (query cost only)",
    "replicas-kept": "(b, kept) both replicas, kept-open pools, readers split",
    worker: "(c) GET /api/search via the worker",
  };
  lines.push(
    "",
    `### 3. Search throughput: ${r.readers} concurrent readers, closed loop, ${r.readSeconds} s each, as a guest (permission filter on)`,
    "",
    `Data: ${fmtInt(Number(r.sizes?.messages))} messages, ${fmtInt(Number(r.sizes?.events))} events, ${fmtInt(Number(r.sizes?.rooms))} rooms, database ${kb(Number(r.sizes?.bytes))}; ` +
      `replicas caught up ${fmt(r.caughtUpMs, 0)} ms after the writes; ANALYZE run, caches warmed with one pass of each term per node.`,
    "",
    "| target | qps | p50 ms | p99 ms | max ms | served by | hits/query | errors | CPU | qps vs (a) |",
    "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
  );
  for (const x of r.reads) {
    const busy = r.phases.find((p) => p.name === `reads: ${x.target}`)?.busy ?? NaN;
    lines.push(
      `| ${names[x.target]} | ${fmt(x.qps)} | ${fmt(x.latencyMs.p50)} | ${fmt(x.latencyMs.p99)} | ${fmt(x.latencyMs.max)} | ${Object.entries(
        x.servedBy,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ", ",
        )} | ${fmt(x.hitsPerQuery, 1)} | ${x.errors} | ${pct(busy)} | ${primary ? `${fmt(x.qps / primary.qps, 2)}×` : "–"} |`,
    );
  }
  const kept = r.reads.find((x) => x.target === "primary-kept");
  lines.push(
    "",
    "Search terms (round-robin), messages matching, and p50 ms per term (primary alone / kept-open pool):",
    "",
    "| term | query | matching messages | p50 ms (a) | p50 ms kept |",
    "| --- | --- | ---: | ---: | ---: |",
    ...r.termHits.map(
      (t) =>
        `| ${t.label} | \`${t.q}\` | ${fmtInt(t.matches)} | ${fmt(primary?.perTerm[t.label]?.p50)} | ${fmt(kept?.perTerm[t.label]?.p50)} |`,
    ),
    "",
    "### CPU by process during each phase (% of one core; this machine has " +
      cpus().length +
      "; other = everything else on the machine)",
    "",
    "| phase | postgres (3 nodes) | workerd | bench node | ws proxy | other | machine busy |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.phases.map((p) => {
      const c = p.cpu ?? {};
      return `| ${p.name} | ${fmt(c.postgres, 0)} | ${fmt(c.workerd, 0)} | ${fmt(c["bench node"], 0)} | ${fmt(c["ws proxy"], 0)} | ${fmt(c.other, 0)} | ${pct(p.busy)} |`;
    }),
    "",
    `Run time: ${r.elapsed.toFixed(0)} s.`,
  );
  return lines.join("\n");
}

let cleaning: Promise<void> | undefined;
const bail = (code: number) => {
  cleaning ??= cleanup();
  void cleaning.finally(() => process.exit(code));
};
process.on("SIGINT", () => {
  console.error("bench:db: interrupted, stopping the cluster and the worker…");
  bail(130);
});
process.on("SIGTERM", () => bail(143));
const watchdog = setTimeout(() => {
  console.error("bench:db: watchdog: still running after 15 minutes, giving up");
  bail(2);
}, 15 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    cleaning ??= cleanup();
    await cleaning;
    process.exit(1);
  },
);
