/**
 * `npm run bench`: edgechat against a minimal Node `ws` broadcast server (this machine's ceiling),
 * the same SDK client and procedure for both. See bench/README.md.
 *
 *   node bench/run.ts                          the three standard scenarios, both targets
 *   node bench/run.ts --scenario fanout        one standard scenario (flags override its settings)
 *   node bench/run.ts --clients 50 --senders 5 --rate 100 --size 100 --duration 10 --rooms 1
 *                                              a custom open-loop scenario (--mode closed for closed loop)
 *   --target raw|edgechat|edgechat-direct|both|all  --warmup S  --drain S  --pace N  --out FILE
 *   --persist-root DIR   where edgechat's Durable Objects keep their SQLite files (default $TMPDIR)
 */
import { cpus, loadavg, tmpdir } from "node:os";
import { writeResults } from "./results.ts";
import { parseArgs } from "node:util";
import { runScenario, type RunResult, type Scenario } from "./load.ts";
import { cpuDelta, startTarget, treeCpu, type TargetName } from "./servers.ts";

const STANDARD: Record<string, Scenario> = {
  fanout: {
    name: "fanout",
    mode: "open",
    rooms: 1,
    clients: 100,
    senders: 10,
    rate: 200,
    size: 100,
    duration: 10,
    warmup: 2,
    drain: 5,
    pace: 0,
  },
  // Every client sends, each at most 20/s (the server's per-connection limit, as a well-behaved
  // client would pace itself): the ceiling 100 × 20 = 2000 msg/s is far above what one room's
  // 100-way fan-out reaches here, so the rate limit does not decide the result.
  "closed-loop": {
    name: "closed-loop",
    mode: "closed",
    rooms: 1,
    clients: 100,
    senders: 100,
    rate: 0,
    size: 100,
    duration: 10,
    warmup: 2,
    drain: 5,
    pace: 20,
  },
  // 10 rooms × 20 clients, 5 senders per room at 20/s each = 1000 msg/s, within the default limit.
  rooms: {
    name: "rooms",
    mode: "open",
    rooms: 10,
    clients: 20,
    senders: 5,
    rate: 1000,
    size: 100,
    duration: 10,
    warmup: 2,
    drain: 5,
    pace: 0,
  },
};

type Goal = { label: string; raw: string; edgechat: string; ratio: string; pass: boolean };
type Measured = RunResult & {
  serverCpuMs: Record<string, number>;
  windowServerCpuMs: Record<string, number>;
};
type ScenarioReport = {
  scenario: Scenario;
  results: Partial<Record<TargetName, Measured>>;
  goals: Goal[];
};

const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string" },
    target: { type: "string", default: "both" },
    clients: { type: "string" },
    senders: { type: "string" },
    rate: { type: "string" },
    size: { type: "string" },
    duration: { type: "string" },
    rooms: { type: "string" },
    warmup: { type: "string" },
    drain: { type: "string" },
    pace: { type: "string" },
    mode: { type: "string" },
    out: { type: "string" },
    "persist-root": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (flags.help) {
  console.log(
    "usage: node bench/run.ts [--scenario fanout|closed-loop|rooms] [--target raw|edgechat|both]\n" +
      "       [--clients N] [--senders N] [--rate MSG/S] [--size CHARS] [--duration S] [--rooms N]\n" +
      "       [--warmup S] [--drain S] [--pace MSG/S] [--mode open|closed] [--out FILE]\n" +
      "       [--persist-root DIR]   (where edgechat keeps its SQLite files; default $TMPDIR)",
  );
  process.exit(0);
}

function scenarios(): Scenario[] {
  const numeric = [
    "clients",
    "senders",
    "rate",
    "size",
    "duration",
    "rooms",
    "warmup",
    "drain",
    "pace",
  ] as const;
  const overrides: Partial<Scenario> = {};
  for (const key of numeric) {
    const v = flags[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${key}: expected a non-negative number, got ${v}`);
    overrides[key] = n;
  }
  if (flags.mode !== undefined) {
    if (flags.mode !== "open" && flags.mode !== "closed") throw new Error("--mode: open or closed");
    overrides.mode = flags.mode;
  }
  if (flags.scenario !== undefined) {
    const base = STANDARD[flags.scenario];
    if (!base) throw new Error(`--scenario: one of ${Object.keys(STANDARD).join(", ")}`);
    return [{ ...base, ...overrides }];
  }
  if (Object.keys(overrides).length === 0) return Object.values(STANDARD);
  return [{ ...STANDARD.fanout!, name: "custom", ...overrides }];
}

const ALL_TARGETS: TargetName[] = ["raw", "edgechat", "edgechat-direct"];

/** --target both (raw and edgechat), all (plus edgechat-direct), or a comma-separated list. */
function targets(): TargetName[] {
  if (flags.target === "both") return ["raw", "edgechat"];
  if (flags.target === "all") return ALL_TARGETS;
  const list = (flags.target ?? "").split(",").map((t) => t.trim());
  for (const t of list)
    if (!ALL_TARGETS.includes(t as TargetName))
      throw new Error(`--target: both, all, or a list of ${ALL_TARGETS.join(", ")}`);
  return list as TargetName[];
}

const log = (line: string) => console.error(line);
const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !b ? undefined : a / b;

function goalsFor(s: Scenario, raw?: RunResult, edge?: RunResult): Goal[] {
  if (!edge) return [];
  const goals: Goal[] = [];
  const p99 = ratio(edge.latencyMs.p99, raw?.latencyMs.p99);
  const latencyGoal = (): Goal => ({
    label: "fan-out p99 ≤ 3× raw",
    raw: `${fmt(raw?.latencyMs.p99)} ms`,
    edgechat: `${fmt(edge.latencyMs.p99)} ms`,
    ratio: `${fmt(p99, 2)}×`,
    pass: p99 !== undefined && p99 <= 3,
  });
  if (s.name === "fanout") {
    goals.push({
      label: "zero loss",
      raw: String(raw?.lost ?? "–"),
      edgechat: String(edge.lost),
      ratio: "",
      pass: edge.lost === 0 && edge.expected > 0,
    });
    goals.push(latencyGoal());
  } else if (s.name === "closed-loop") {
    const r = ratio(edge.ackedPerS, raw?.ackedPerS);
    goals.push({
      label: "acked msg/s ≥ 0.45× raw",
      raw: fmt(raw?.ackedPerS),
      edgechat: fmt(edge.ackedPerS),
      ratio: `${fmt(r, 2)}×`,
      pass: r !== undefined && r >= 0.45,
    });
    const d = edge.durable;
    goals.push({
      label: "every acked seq in the log (HTTP)",
      raw: "n/a",
      edgechat: d ? `${d.found}/${d.acked}` : "–",
      ratio: "",
      pass: !!d && !d.error && d.acked > 0 && d.missing === 0 && d.wrongText === 0,
    });
  } else if (s.name === "rooms") {
    const rejects = edge.rejected;
    goals.push({
      label: "zero rejects",
      raw: String(raw?.rejected ?? "–"),
      edgechat: String(rejects),
      ratio: "",
      pass: rejects === 0 && edge.sent > 0,
    });
    goals.push(latencyGoal());
  }
  return goals;
}

function table(report: ScenarioReport): string {
  const { scenario: s, results } = report;
  const cols = ALL_TARGETS.filter((t) => results[t]);
  const others = cols.filter((t) => t !== "raw");
  const raw = results.raw;
  const edge = results.edgechat ?? results["edgechat-direct"];
  const row = (
    label: string,
    get: (r: Measured) => number | undefined,
    digits = 1,
    showRatio = true,
  ) => {
    const base = raw ? get(raw) : undefined;
    const cells = cols.map((t) => fmt(get(results[t]!), digits));
    const ratios = raw
      ? others.map((t) => (showRatio ? fmt(ratio(get(results[t]!), base), 2) : ""))
      : [];
    return `| ${label} | ${[...cells, ...ratios].join(" | ")} |`;
  };
  const shape =
    s.mode === "open"
      ? `${s.rooms} room(s) × ${s.clients} clients, ${s.senders} sender(s)/room, open loop ${s.rate} msg/s aggregate`
      : `${s.rooms} room(s) × ${s.clients} clients, ${s.senders} sender(s)/room, closed loop${s.pace ? ` (each sender ≤ ${s.pace} msg/s)` : ""}`;
  const names: Record<TargetName, string> = {
    raw: "raw ws",
    edgechat: "edgechat",
    "edgechat-direct": "edgechat direct",
  };
  const heads = [
    ...cols.map((t) => names[t]),
    ...(raw ? others.map((t) => `${names[t]}/raw`) : []),
  ];
  const lines = [
    `### ${s.name}: ${shape}, ${s.size}-char messages, ${s.duration} s (+${s.warmup} s warm-up, ≤${s.drain} s drain)`,
    "",
    `| metric | ${heads.join(" | ")} |`,
    `| --- | ${heads.map(() => "---:").join(" | ")} |`,
    row("sent msg/s", (r) => r.sentPerS),
    row("acked msg/s", (r) => r.ackedPerS),
    row("delivered msg/s", (r) => r.messagesPerS),
    row("deliveries/s (msg × receivers)", (r) => r.deliveriesPerS, 0),
    row("fan-out latency p50 ms", (r) => r.latencyMs.p50, 2),
    row("fan-out latency p95 ms", (r) => r.latencyMs.p95, 2),
    row("fan-out latency p99 ms", (r) => r.latencyMs.p99, 2),
    row("fan-out latency max ms", (r) => r.latencyMs.max, 2),
    row("ack latency p50 ms", (r) => r.ackLatencyMs.p50, 2),
    row("ack latency p99 ms", (r) => r.ackLatencyMs.p99, 2),
    row("expected deliveries", (r) => r.expected, 0, false),
    row("lost", (r) => r.lost, 0, false),
    row("rejects", (r) => r.rejected, 0, false),
    row("duplicates", (r) => r.duplicates, 0, false),
    row("out of order (SDK)", (r) => r.outOfOrder, 0, false),
    row("seq gaps (own check)", (r) => r.gaps, 0, false),
    row("max send lag ms (load generator)", (r) => r.maxSendLagMs, 1, false),
    row("server CPU s, measured window", (r) => sum(r.windowServerCpuMs) / 1000, 2),
    row("load generator CPU s, whole run", (r) => r.loadgenCpuMs / 1000, 2),
  ];
  for (const t of cols) {
    const w = results[t]!.windowServerCpuMs;
    if (t !== "raw")
      lines.push("", `${names[t]} server CPU in the window by process (ms): ${JSON.stringify(w)}`);
  }
  const rejectCodes =
    edge && (Object.keys(edge.rejects).length || Object.keys(edge.unmatchedErrors).length)
      ? `edgechat rejects by code: ${JSON.stringify(edge.rejects)}; error frames without a clientId: ${JSON.stringify(edge.unmatchedErrors)}`
      : "";
  if (rejectCodes) lines.push("", rejectCodes);
  if (edge?.durable)
    lines.push(
      "",
      `edgechat log check (GET /api/rooms/{room}/events, paged): ${edge.durable.found}/${edge.durable.acked} acked messages found with their text, ${edge.durable.missing} missing, ${edge.durable.wrongText} with other text${edge.durable.error ? `, error: ${edge.durable.error}` : ""}`,
    );
  if (report.goals.length) {
    lines.push("");
    for (const g of report.goals)
      lines.push(
        `- **${g.pass ? "PASS" : "FAIL"}** ${g.label}: raw ${g.raw}, edgechat ${g.edgechat}${g.ratio ? ` (${g.ratio})` : ""}`,
      );
  }
  return lines.join("\n");
}

const sum = (o: Record<string, number> | undefined) =>
  Object.values(o ?? {}).reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const started = Date.now();
  const plan = scenarios();
  const which = targets();
  const reports: ScenarioReport[] = [];
  for (const s of plan) {
    const report: ScenarioReport = { scenario: s, results: {}, goals: [] };
    for (const target of which) {
      log(`[${s.name}] ${target}: starting server`);
      const server = await startTarget(target, { persistRoot: flags["persist-root"] });
      try {
        log(`[${s.name}] ${target}: ${server.url} (pid ${server.pid})`);
        const before = treeCpu(server.pid);
        let windowStart = before;
        let windowServerCpuMs: Record<string, number> = {};
        const probe = {
          start: () => void (windowStart = treeCpu(server.pid)),
          end: () => void (windowServerCpuMs = cpuDelta(windowStart, treeCpu(server.pid))),
        };
        const result = await runScenario(target, server.url, s, log, probe);
        const serverCpuMs = cpuDelta(before, treeCpu(server.pid));
        report.results[target] = { ...result, serverCpuMs, windowServerCpuMs };
        log(
          `[${s.name}] ${target}: acked ${fmt(result.ackedPerS)} msg/s, delivered ${fmt(result.messagesPerS)} msg/s, ` +
            `p50/p99 ${fmt(result.latencyMs.p50, 2)}/${fmt(result.latencyMs.p99, 2)} ms, lost ${result.lost}, rejects ${result.rejected}, ` +
            `server CPU in window ${JSON.stringify(windowServerCpuMs)} ms`,
        );
      } finally {
        await server.stop();
      }
    }
    report.goals = goalsFor(
      s,
      report.results.raw,
      report.results.edgechat ?? report.results["edgechat-direct"],
    );
    reports.push(report);
  }

  const elapsed = (Date.now() - started) / 1000;
  const header = [
    `## edgechat benchmark, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; Node ${process.version}.`,
    "Path: the SDK's RoomConnection (ws, no permessage-deflate) → edgechat via wrangler `unstable_startWorker` " +
      "(test/support/server.ts: wrangler's dev proxy in front of workerd, as `wrangler dev` users get), " +
      "or → a minimal Node `ws` broadcast server (bench/raw-server.ts). Each server in its own process." +
      (flags["persist-root"]
        ? ` edgechat storage under ${flags["persist-root"]}.`
        : ` edgechat storage under ${tmpdir()}.`),
  ].join("\n");
  const summary = [
    "| scenario | goal | raw | edgechat | ratio | result |",
    "| --- | --- | ---: | ---: | ---: | --- |",
  ];
  for (const r of reports)
    for (const g of r.goals)
      summary.push(
        `| ${r.scenario.name} | ${g.label} | ${g.raw} | ${g.edgechat} | ${g.ratio} | ${g.pass ? "PASS" : "FAIL"} |`,
      );
  const markdown = [
    header,
    "",
    ...reports.map(table).flatMap((t) => [t, ""]),
    ...(summary.length > 2 ? ["### Goals", "", ...summary, ""] : []),
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
  console.log(markdown);

  const file = writeResults("", started, elapsed, { reports, markdown }, flags.out);
  log(`results: ${file}`);
}

const watchdog = setTimeout(() => {
  console.error("bench: watchdog: still running after 20 minutes, giving up");
  process.exit(2);
}, 20 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
