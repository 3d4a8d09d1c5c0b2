/**
 * `npm run bench`: edgechat (through `wrangler dev`, as `npm run dev` users get it) against a
 * minimal Node `ws` broadcast server (this machine's ceiling), with the SDK's client and with
 * SDK-less plain edgechat.v1 clients. See bench/README.md for the flags.
 */
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BOTH, CLIENT_KINDS, servedByRaw, type ClientKind, type RpcRoute } from "./clients.ts";
import { runScenario, type Scenario } from "./load.ts";
import { goalsFor, STANDARD } from "./scenarios.ts";
import { goalsTable, summaryTable, table, type Measured, type Report } from "./report.ts";
import { writeResults } from "./results.ts";
import {
  cpuDelta,
  REPO_ROOT,
  startGatewayProcess,
  startTarget,
  TARGETS,
  treeCpu,
  type Storage,
  type TargetName,
} from "./servers.ts";

const NUMERIC = [
  "clients",
  "senders",
  "rate",
  "size",
  "duration",
  "rooms",
  "warmup",
  "drain",
  "pace",
  "shards",
] as const;

const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string" },
    target: { type: "string", default: "raw,edgechat-dev" },
    client: { type: "string", default: "both" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    mode: { type: "string" },
    "rpc-via": { type: "string", default: "worker" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
    clients: { type: "string" },
    senders: { type: "string" },
    rate: { type: "string" },
    size: { type: "string" },
    duration: { type: "string" },
    rooms: { type: "string" },
    warmup: { type: "string" },
    drain: { type: "string" },
    pace: { type: "string" },
    shards: { type: "string" },
  },
});

const USAGE = `usage: node bench/run.ts [--scenario LIST] [--target LIST|all] [--client sdk|raw|graphql|rpc|both|all]
       [--rpc-via worker|gateway] [--storage disk|tmpfs|both] [--server-root DIR] [--label TEXT] [--out FILE]
       [--clients N] [--senders N] [--rate MSG/S] [--size CHARS] [--duration S] [--rooms N]
       [--warmup S] [--drain S] [--pace MSG/S] [--shards N] [--mode open|closed]
scenarios: ${Object.keys(STANDARD).join(", ")} (default: all); targets: ${TARGETS.join(", ")}`;

/** A comma list of allowed names; `all` (or `both`) for every one. */
function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  if (value === "all") return [...allowed];
  // "both" predates the graphql and rpc clients: the SDK and the plain client.
  if (value === "both") return allowed.filter((item) => (BOTH as readonly string[]).includes(item));
  const items = value.split(",").map((v) => v.trim()) as T[];
  for (const item of items)
    if (!allowed.includes(item))
      throw new Error(`--${flag}: ${item}? one of ${allowed.join(", ")}`);
  return items;
}

if (flags["rpc-via"] !== "worker" && flags["rpc-via"] !== "gateway")
  throw new Error(`--rpc-via: worker or gateway, not ${flags["rpc-via"]}`);

function overrides(): Partial<Scenario> {
  const out: Partial<Scenario> = {};
  for (const key of NUMERIC) {
    const v = flags[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${key}: a non-negative number, not ${v}`);
    out[key] = n;
  }
  if (flags.mode !== undefined) {
    if (flags.mode !== "open" && flags.mode !== "closed") throw new Error("--mode: open or closed");
    out.mode = flags.mode;
  }
  return out;
}

/** The standard scenarios (or those named), each with the flags' overrides. */
function scenarios(): Scenario[] {
  const names = list("scenario", flags.scenario ?? "all", Object.keys(STANDARD));
  const o = overrides();
  return names.map((name) => {
    const s = { ...STANDARD[name]!, ...o };
    // --shards applies to the shards scenario only, unless a scenario was named explicitly.
    if (o.shards !== undefined && name !== "shards" && !flags.scenario) s.shards = 0;
    return s;
  });
}

const log = (line: string) => console.error(line);
const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function measure(
  storage: Storage,
  s: Scenario,
  client: ClientKind,
  target: TargetName,
  serverRoot: string,
): Promise<Measured> {
  const loadAverage = loadavg();
  log(
    `[${storage} ${s.name} ${client}] ${target}: starting (load ${loadAverage.map((l) => fmt(l, 2)).join(" ")})`,
  );
  const server = await startTarget(target, { storage, serverRoot });
  // rpc clients through the gateway: `npm run grpc-gateway` in its own process, before the worker.
  const gateway =
    client === "rpc" && flags["rpc-via"] === "gateway"
      ? await startGatewayProcess([server.url]).catch(async (error: unknown) => {
          await server.stop();
          throw error;
        })
      : undefined;
  const rpc: RpcRoute = gateway ? { via: "gateway", url: gateway.url } : { via: "worker" };
  try {
    let windowStart = treeCpu(server.pid);
    let gatewayStart = gateway ? treeCpu(gateway.pid) : [];
    let windowServerCpuMs: Record<string, number> = {};
    const probe = {
      start: () => {
        windowStart = treeCpu(server.pid);
        if (gateway) gatewayStart = treeCpu(gateway.pid);
      },
      end: () => {
        windowServerCpuMs = cpuDelta(windowStart, treeCpu(server.pid), server.role);
        if (gateway)
          Object.assign(
            windowServerCpuMs,
            cpuDelta(gatewayStart, treeCpu(gateway.pid), () => "gateway"),
          );
      },
    };
    const result = await runScenario({ target, baseUrl: server.url, client, log, probe, rpc }, s);
    log(
      `[${storage} ${s.name} ${client}] ${target}: acked ${fmt(result.ackedPerS)} msg/s, delivered ${fmt(result.messagesPerS)} msg/s, ` +
        `p50/p99 ${fmt(result.latencyMs.p50, 2)}/${fmt(result.latencyMs.p99, 2)} ms, refused ${result.rejected} (once ${result.refusedOnce}), ` +
        `lost ${result.lost}, dup ${result.duplicates}, reorder ${result.outOfOrder}, CPU ${JSON.stringify(windowServerCpuMs)}`,
    );
    return { ...result, windowServerCpuMs, loadAverage };
  } finally {
    await gateway?.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const plan = scenarios();
  const targets = list("target", flags.target!, TARGETS);
  const clients = list("client", flags.client!, CLIENT_KINDS);
  const storages = list<Storage>("storage", flags.storage!, ["disk", "tmpfs"]);
  const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);
  const reports: Report[] = [];
  for (const storage of storages)
    for (const s of plan)
      for (const client of clients) {
        const report: Report = { storage, scenario: s, client, results: {}, goals: {} };
        // The raw server speaks the chat protocol only: graphql and rpc run against edgechat only.
        const served = targets.filter((target) => servedByRaw(client) || target !== "raw");
        for (const target of served)
          report.results[target] = await measure(storage, s, client, target, serverRoot);
        for (const target of served)
          if (target !== "raw")
            report.goals[target] = goalsFor(s, report.results.raw, report.results[target]!);
        reports.push(report);
      }

  const elapsed = (Date.now() - started) / 1000;
  const header = [
    `## edgechat benchmark${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ` +
      `${reports[0]?.results[targets[0]!]?.loadAverage.map((l) => fmt(l, 2)).join(" ") ?? "–"}.`,
    `edgechat: \`wrangler dev\` in ${serverRoot}; storage under ${storages.map((st) => (st === "disk" ? "/tmp (disk)" : "/dev/shm (tmpfs)")).join(", ")}. ` +
      "Clients: sdk = the SDK's RoomConnection (edgechat.v1.batch), raw = plain edgechat.v1 ws clients, " +
      "graphql = roomEvents subscribers on the room's GraphQL socket, rpc = HistoryService.WatchRoom streams " +
      `(${flags["rpc-via"] === "gateway" ? "gRPC through the gateway" : "Connect binary to the worker's /rpc"}), ` +
      "both posting through plain chat sockets of their own.",
  ].join("\n");
  const markdown = [
    header,
    "",
    "### Summary",
    "",
    summaryTable(reports),
    "",
    "### Goals",
    "",
    goalsTable(reports),
    "",
    ...reports.map(table).flatMap((t) => [t, ""]),
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
  console.log(markdown);
  const file = writeResults(
    "",
    started,
    elapsed,
    { label: flags.label, serverRoot, reports, markdown },
    flags.out,
  );
  log(`results: ${file}`);
}

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

// Every run has its own bounds; this one (3 minutes a run) catches anything that slips past them.
const runs =
  scenarios().length *
  list("target", flags.target!, TARGETS).length *
  list("client", flags.client!, CLIENT_KINDS).length *
  (flags.storage === "both" ? 2 : 1);
const watchdog = setTimeout(
  () => {
    console.error("bench: watchdog: gave up");
    process.exit(2);
  },
  (5 + runs * 3) * 60_000,
);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
