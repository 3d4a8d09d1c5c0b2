/**
 * `npm run bench:observability`: what metrics and tracing cost on the load benchmark, as ratios
 * to both off, measured in one run. Steady scenarios of `npm run bench` (bench/scenarios.ts: one
 * room fanning out to 100 receivers, and ten small rooms) through `wrangler dev` with storage on
 * disk, the user path, under four variants of the worker's settings:
 *
 * - `off`: METRICS_ENABLED=false, no OTLP endpoint;
 * - `metrics`: METRICS_ENABLED=true, the other metrics settings at their defaults;
 * - `tracing`: metrics, and every trace exported (always_on) to a local OTLP sink (./sink.ts);
 * - `tracing-10`: metrics, and parentbased_traceidratio at 0.1.
 *
 * A fresh server and storage per variant-run; the variants alternate within each round (ABCD,
 * then DCBA, so that a drift of the machine weighs on every variant alike) and each variant is
 * compared with the `off` run of its own round; the report gives medians over rounds. Markdown
 * on stdout, progress on stderr, everything in bench/results/observability-<time>.json. Talks to
 * 127.0.0.1 only, stops by itself; SIGINT and SIGTERM stop the server and remove the storage.
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ClientKind } from "../clients.ts";
import { runScenario, type RunResult, type Scenario } from "../load.ts";
import { fmt, shape } from "../report.ts";
import { writeResults } from "../results.ts";
import { STANDARD } from "../scenarios.ts";
import {
  cpuDelta,
  machineCpuMs,
  REPO_ROOT,
  startTarget,
  treeCpu,
  type RunningServer,
  type Storage,
} from "../servers.ts";
import { now, stopOnExit, sum } from "../util.ts";
import { startTraceSink, type SinkCounts, type TraceSink } from "./sink.ts";

/** The write path and the fan-out: one room × 100 receivers, and 10 small rooms. */
const SCENARIOS: Record<string, Scenario> = {
  fanout: STANDARD.fanout!,
  // The standard `rooms` at 1000 msg/s saturates this machine's runtime; a few hundred keeps
  // it steady, so that a cost shows as CPU and latency rather than as a backlog.
  "rooms-300": { ...STANDARD.rooms!, name: "rooms-300", rate: 300 },
};

type Variant = {
  name: string;
  label: string;
  /** Needs the trace sink and a tree that knows OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracing: boolean;
  vars(sinkUrl: string): Record<string, string>;
};

const VARIANTS: readonly Variant[] = [
  { name: "off", label: "off", tracing: false, vars: () => ({ METRICS_ENABLED: "false" }) },
  { name: "metrics", label: "metrics", tracing: false, vars: () => ({ METRICS_ENABLED: "true" }) },
  {
    name: "tracing",
    label: "metrics + tracing (always_on)",
    tracing: true,
    vars: (sink) => ({
      METRICS_ENABLED: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink,
      OTEL_TRACES_SAMPLER: "always_on",
    }),
  },
  {
    name: "tracing-10",
    label: "metrics + tracing 10 % (parentbased_traceidratio 0.1)",
    tracing: true,
    vars: (sink) => ({
      METRICS_ENABLED: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink,
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.1",
    }),
  },
];

const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string", default: Object.keys(SCENARIOS).join(",") },
    variant: { type: "string", default: VARIANTS.map((v) => v.name).join(",") },
    rounds: { type: "string", default: "2" },
    client: { type: "string", default: "raw" },
    storage: { type: "string", default: "disk" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const USAGE = [
  "usage: node bench/observability/run.ts [--scenario LIST] [--variant LIST] [--rounds N]",
  "       [--client sdk|raw] [--storage disk|tmpfs] [--duration S] [--warmup S]",
  "       [--server-root DIR] [--label TEXT] [--out FILE]",
  `scenarios: ${Object.values(SCENARIOS)
    .map((s) => `${s.name} (${shape(s)})`)
    .join("; ")}`,
  `variants: ${VARIANTS.map((v) => `${v.name} (${v.label})`).join("; ")}; off always runs`,
].join("\n");

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  if (value === "all") return [...allowed];
  const items = value.split(",").map((v) => v.trim()) as T[];
  for (const item of items)
    if (!allowed.includes(item))
      throw new Error(`--${flag}: ${item}? one of ${allowed.join(", ")}`);
  return items;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag}: a positive number, not ${value}`);
  return n;
}

const log = (line: string) => console.error(line);
const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);

/** Whether the tree `wrangler dev` runs has tracing at all (the setting exists in its config). */
function tracingIn(root: string): boolean {
  const config = join(root, "src/config.ts");
  return existsSync(config) && readFileSync(config, "utf8").includes("OTEL_EXPORTER_OTLP_ENDPOINT");
}

/**
 * `wrangler dev` reads the tree's .dev.vars, and a `--var` cannot unset what it sets: an OTLP
 * endpoint there would trace the `off` and `metrics` variants too.
 */
function refuseDevVarsEndpoint(root: string): void {
  const file = join(root, ".dev.vars");
  if (existsSync(file) && /^\s*OTEL_EXPORTER_OTLP_ENDPOINT\s*=/m.test(readFileSync(file, "utf8")))
    throw new Error(`${file} sets OTEL_EXPORTER_OTLP_ENDPOINT: remove it for this benchmark`);
}

/** The variants to run, `off` first (every ratio needs it), tracing ones only where they trace. */
function plannedVariants(): { variants: Variant[]; notes: string[] } {
  const named = new Set(
    list(
      "variant",
      flags.variant!,
      VARIANTS.map((v) => v.name),
    ),
  );
  named.add("off");
  const notes: string[] = [];
  const traces = tracingIn(serverRoot);
  const variants = VARIANTS.filter((v) => named.has(v.name)).filter((v) => {
    if (!v.tracing || traces) return true;
    notes.push(`${v.name}: skipped, ${serverRoot} has no tracing (no OTEL_EXPORTER_OTLP_ENDPOINT)`);
    return false;
  });
  return { variants, notes };
}

function plannedScenarios(): Scenario[] {
  const duration = positive("duration", flags.duration);
  const warmup = positive("warmup", flags.warmup);
  return list("scenario", flags.scenario!, Object.keys(SCENARIOS)).map((name) => ({
    ...SCENARIOS[name]!,
    ...(duration ? { duration } : {}),
    ...(warmup ? { warmup } : {}),
  }));
}

/** One variant-run: the load benchmark's result and what was measured around its window. */
type Run = {
  round: number;
  scenario: string;
  variant: string;
  result: RunResult;
  /** Server CPU in the measured window, per role (runtime, proxy, wrangler), ms. */
  windowServerCpuMs: Record<string, number>;
  /** Cores the rest of the machine (other than the server and this process) took in the window. */
  othersCores: number;
  /** What the trace sink received in the window (tracing variants). */
  exported?: SinkCounts;
  loadAverage: number[];
};

const diff = (a: SinkCounts, b: SinkCounts): SinkCounts => ({
  requests: b.requests - a.requests,
  bytes: b.bytes - a.bytes,
  spans: b.spans - a.spans,
  rejected: b.rejected - a.rejected,
});

let running: RunningServer | undefined;
let sink: TraceSink | undefined;

async function measureRun(
  round: number,
  s: Scenario,
  variant: Variant,
  client: ClientKind,
  storage: Storage,
): Promise<Run> {
  const loadAverage = loadavg();
  const tag = `[round ${round} ${s.name} ${variant.name}]`;
  log(`${tag} starting (load ${loadAverage.map((l) => fmt(l, 2)).join(" ")})`);
  const server = await startTarget("edgechat-dev", {
    storage,
    serverRoot,
    vars: variant.vars(sink?.url ?? ""),
  });
  running = server;
  try {
    let cpu0 = treeCpu(server.pid);
    let machine0 = machineCpuMs();
    let own0 = process.cpuUsage();
    let sink0 = sink?.counts();
    let t0 = now();
    const out = { windowServerCpuMs: {} as Record<string, number>, othersCores: 0 } as Pick<
      Run,
      "windowServerCpuMs" | "othersCores" | "exported"
    >;
    const probe = {
      start: () => {
        cpu0 = treeCpu(server.pid);
        machine0 = machineCpuMs();
        own0 = process.cpuUsage();
        sink0 = sink?.counts();
        t0 = now();
      },
      end: () => {
        out.windowServerCpuMs = cpuDelta(cpu0, treeCpu(server.pid), server.role);
        const own = process.cpuUsage(own0);
        const others =
          machineCpuMs() - machine0 - sum(out.windowServerCpuMs) - (own.user + own.system) / 1000;
        out.othersCores = Math.max(0, others) / (now() - t0);
        if (variant.tracing && sink && sink0) out.exported = diff(sink0, sink.counts());
      },
    };
    const result = await runScenario(
      { target: "edgechat-dev", baseUrl: server.url, client, log, probe },
      s,
    );
    const run: Run = {
      round,
      scenario: s.name,
      variant: variant.name,
      result,
      loadAverage,
      ...out,
    };
    const d = derived(run);
    log(
      `${tag} delivered ${fmt(d.delivered)} msg/s, p50/p99 ${fmt(d.p50, 2)}/${fmt(d.p99, 2)} ms, ` +
        `runtime CPU ${fmt(d.cpuPerMsg, 3)} ms/msg, lost ${result.lost}, dup ${result.duplicates}, ` +
        `reorder ${result.outOfOrder}, others ${fmt(run.othersCores, 2)} cores` +
        (run.exported ? `, exported ${JSON.stringify(run.exported)}` : ""),
    );
    return run;
  } finally {
    await server.stop();
    running = undefined;
  }
}

/** The numbers compared, per run. */
function derived(run: Run) {
  const r = run.result;
  const acked = r.ackedPerS * r.durationS;
  const e = run.exported;
  return {
    delivered: r.messagesPerS,
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    /** The worker's workerd (the rooms, the worker, the metrics objects) per acked post. */
    cpuPerMsg: (run.windowServerCpuMs.runtime ?? 0) / acked,
    /** The runtime's CPU over the window's wall time: near 1, posts queue and batch. */
    runtimeBusy: (run.windowServerCpuMs.runtime ?? 0) / (r.durationS * 1000),
    spansPerMsg: e ? e.spans / acked : undefined,
    exportBytesPerMsg: e ? e.bytes / acked : undefined,
    exportsPerS: e ? e.requests / r.durationS : undefined,
  };
}

type Derived = ReturnType<typeof derived>;
const COMPARED = ["delivered", "p50", "p99", "cpuPerMsg"] as const;

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

type Summary = {
  scenario: string;
  variant: string;
  rounds: number;
  /** Medians over rounds. */
  median: Partial<Record<keyof Derived, number>>;
  /** Medians over rounds of (this variant ÷ that round's `off`). */
  ratio: Partial<Record<(typeof COMPARED)[number], number>>;
  /** The smallest and largest of those per-round ratios: the spread the median hides. */
  ratioRange: Partial<Record<(typeof COMPARED)[number], [number, number]>>;
  othersCores: number;
};

function summarize(runs: Run[], scenarios: Scenario[], variants: Variant[]): Summary[] {
  const out: Summary[] = [];
  for (const s of scenarios)
    for (const v of variants) {
      const mine = runs.filter((r) => r.scenario === s.name && r.variant === v.name);
      const offOf = (round: number) =>
        runs.find((r) => r.scenario === s.name && r.variant === "off" && r.round === round);
      const summary: Summary = {
        scenario: s.name,
        variant: v.name,
        rounds: mine.length,
        median: {},
        ratio: {},
        ratioRange: {},
        othersCores: median(mine.map((r) => r.othersCores)),
      };
      const keys = Object.keys(derived(mine[0]!)) as (keyof Derived)[];
      for (const key of keys) summary.median[key] = median(mine.map((r) => derived(r)[key] ?? NaN));
      for (const key of COMPARED) {
        const ratios = mine
          .map((r) => {
            const off = offOf(r.round);
            return off ? derived(r)[key] / derived(off)[key] : NaN;
          })
          .filter((x) => Number.isFinite(x));
        summary.ratio[key] = median(ratios);
        if (ratios.length) summary.ratioRange[key] = [Math.min(...ratios), Math.max(...ratios)];
      }
      out.push(summary);
    }
  return out;
}

/** `1.08× (0.95–1.21)`: the median ratio and its range over rounds (none for `off` itself). */
function times(x: Summary, key: (typeof COMPARED)[number]): string {
  const n = x.ratio[key];
  if (n === undefined || Number.isNaN(n)) return "";
  const range = x.ratioRange[key];
  const spread =
    x.variant !== "off" && range && x.rounds > 1
      ? ` (${fmt(range[0], 2)}–${fmt(range[1], 2)})`
      : "";
  return `${fmt(n, 2)}×${spread}`;
}

function scenarioTable(s: Scenario, summaries: Summary[], variants: Variant[]): string {
  const lines = [
    `### ${s.name}`,
    "",
    shape(s),
    "",
    "| variant | delivered msg/s | ×off | p50 ms | ×off | p99 ms | ×off | runtime CPU ms/msg | ×off | spans/msg | OTLP bytes/msg | OTLP posts/s | others' cores |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const v of variants) {
    const x = summaries.find((y) => y.scenario === s.name && y.variant === v.name);
    if (!x) continue;
    const m = x.median;
    lines.push(
      `| ${v.label} | ${fmt(m.delivered)} | ${times(x, "delivered")} | ${fmt(m.p50, 2)} | ${times(x, "p50")} | ${fmt(m.p99, 2)} | ${times(x, "p99")} | ${fmt(m.cpuPerMsg, 3)} | ${times(x, "cpuPerMsg")} | ${v.tracing ? fmt(m.spansPerMsg, 2) : ""} | ${v.tracing ? fmt(m.exportBytesPerMsg, 0) : ""} | ${v.tracing ? fmt(m.exportsPerS, 1) : ""} | ${fmt(x.othersCores, 2)} |`,
    );
  }
  return lines.join("\n");
}

function runsTable(runs: Run[]): string {
  const lines = [
    "| round | scenario | variant | delivered msg/s | p50 ms | p99 ms | runtime CPU ms/msg | runtime busy | acked / sent | lost / dup / reorder | log check | spans exported | others' cores | load at start |",
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
  ];
  for (const run of runs) {
    const r = run.result;
    const d = derived(run);
    const log = r.durable
      ? r.durable.error
        ? "failed"
        : `${r.durable.found}/${r.durable.acked}`
      : "–";
    lines.push(
      `| ${run.round} | ${run.scenario} | ${run.variant} | ${fmt(d.delivered)} | ${fmt(d.p50, 2)} | ${fmt(d.p99, 2)} | ${fmt(d.cpuPerMsg, 3)} | ${fmt(d.runtimeBusy, 2)} | ${r.acked}/${r.sent} | ${r.lost} / ${r.duplicates} / ${r.outOfOrder} | ${log} | ${run.exported ? run.exported.spans : ""} | ${fmt(run.othersCores, 2)} | ${fmt(run.loadAverage[0], 2)} |`,
    );
  }
  return lines.join("\n");
}

/** Anything that makes a run's numbers not what they claim to be. */
function warnings(runs: Run[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const r = run.result;
    const name = `round ${run.round} ${run.scenario} ${run.variant}`;
    if (r.lost || r.duplicates || r.outOfOrder)
      out.push(`${name}: ${r.lost} lost, ${r.duplicates} duplicates, ${r.outOfOrder} reorders`);
    const d = r.durable;
    if (d && (d.error || d.missing || d.wrongText || d.refusedButStored || d.storedTwice))
      out.push(`${name}: the log check found ${JSON.stringify(d)}`);
    if (r.acked !== r.sent)
      out.push(
        `${name}: ${r.acked} of ${r.sent} posts acked (refused ${JSON.stringify(r.rejects)}, ${r.unanswered} unanswered): the server pushed back`,
      );
    if (run.exported && run.exported.spans === 0)
      out.push(`${name}: the sink received no spans in the window (tracing did nothing)`);
    if (run.exported?.rejected) out.push(`${name}: ${run.exported.rejected} exports refused`);
  }
  return out;
}

function markdown(
  started: number,
  elapsed: number,
  scenarios: Scenario[],
  variants: Variant[],
  runs: Run[],
  notes: string[],
  client: ClientKind,
  storage: Storage,
): string {
  const summaries = summarize(runs, scenarios, variants);
  const problems = warnings(runs);
  return [
    `## Observability overhead${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ` +
      `${runs[0]?.loadAverage.map((l) => fmt(l, 2)).join(" ") ?? "–"}, at the end ${loadavg()
        .map((l) => fmt(l, 2))
        .join(
          " ",
        )}. edgechat: \`wrangler dev\` in ${serverRoot}, storage on ${storage}; ${client} clients.`,
    `${runs.length} runs in ${Math.max(0, ...runs.map((r) => r.round))} round(s); the variants alternate (odd rounds in order, even rounds reversed), a fresh server and storage each; ` +
      "values are medians over rounds, ×off the median over rounds of the ratio to the same round's `off`. " +
      "Runtime CPU is the worker's workerd (rooms, worker, metrics objects) in the measured window, per acked post (runtime busy: that CPU over the window's wall time); " +
      "others' cores what the rest of the machine took meanwhile.",
    ...notes.map((n) => `- ${n}`),
    "",
    ...scenarios.flatMap((s) => [scenarioTable(s, summaries, variants), ""]),
    "### Every run",
    "",
    runsTable(runs),
    "",
    problems.length
      ? ["Warnings:", ...problems.map((p) => `- ${p}`)].join("\n")
      : "No warnings: every post acked, delivered once and in order, and in the log.",
    "",
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
}

const { stopAndExit } = stopOnExit(() => Promise.all([running?.stop(), sink?.stop()]));

async function main(): Promise<void> {
  const started = Date.now();
  const rounds = positive("rounds", flags.rounds)!;
  if (!Number.isInteger(rounds)) throw new Error(`--rounds: a whole number, not ${flags.rounds}`);
  const client = list<ClientKind>("client", flags.client!, ["sdk", "raw"])[0]!;
  const storage = list<Storage>("storage", flags.storage!, ["disk", "tmpfs"])[0]!;
  const scenarios = plannedScenarios();
  const { variants, notes } = plannedVariants();
  for (const n of notes) log(n);
  refuseDevVarsEndpoint(serverRoot);
  if (variants.some((v) => v.tracing)) sink = await startTraceSink();
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? variants : [...variants].reverse();
    for (const s of scenarios)
      for (const v of order) runs.push(await measureRun(round, s, v, client, storage));
  }
  await sink?.stop();
  const elapsed = (Date.now() - started) / 1000;
  const md = markdown(started, elapsed, scenarios, variants, runs, notes, client, storage);
  console.log(md);
  const file = writeResults(
    "observability-",
    started,
    elapsed,
    {
      label: flags.label,
      serverRoot,
      client,
      storage,
      scenarios,
      variants: variants.map((v) => ({ name: v.name, label: v.label, vars: v.vars("<sink>") })),
      summaries: summarize(runs, scenarios, variants),
      runs,
      markdown: md,
    },
    flags.out,
  );
  log(`results: ${file}`);
}

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

// Every run has its own bounds (sign-ins, connects, the drain); this catches anything past them.
const watchdogMinutes =
  5 +
  3 *
    positive("rounds", flags.rounds)! *
    plannedScenarios().length *
    plannedVariants().variants.length;
setTimeout(() => {
  log(`bench: watchdog: gave up after ${watchdogMinutes} minutes`);
  stopAndExit(2);
}, watchdogMinutes * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
