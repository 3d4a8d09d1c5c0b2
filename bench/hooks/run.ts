/**
 * `npm run bench:hooks`: what before-commit hooks cost the load benchmark's posting workload,
 * through `wrangler dev` with storage on disk (the user path). One room of the load benchmark's
 * closed loop (bench/load.ts: 100 clients, every one posting its next message once its own came
 * back, each at most 20 a second, each a fixed number of measured posts) with, on in the room:
 *
 * - `none`: no plugin (the five filters are installed on the instance, off in the room);
 * - `one`: the profanity filter (plugins/profanity-filter, rewrite mode, its default list);
 * - `five`: five installs of the filter under different ids.
 *
 * The clients are the SDK's (`--client raw` for plain sockets): a post the room refuses as
 * `overloaded` is held and sent again, so that every case commits the same posts.
 *
 * A fresh server (the same tree) and storage per case, the cases in the order of `--cases`, then
 * reversed in every other round. Before the load each filter is shown to rewrite a post in the
 * room; after it, the room's failed hook calls are read from the server's log (a failed hook lets
 * its post through unscreened) and each filter is called idle through the admin's `try`, whose
 * answer carries the runner's own time for the call (the server exposes no per-call time
 * otherwise). Markdown on stdout, progress on stderr, everything in
 * bench/results/hooks-<time>.json. 127.0.0.1 only; every loop and wait is bounded; SIGINT and
 * SIGTERM stop the server and remove its storage.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ClientKind } from "../clients.ts";
import { cpuWindow, type CpuWindow, type ServerChoice } from "../integrations/common.ts";
import { runScenario, type Scenario } from "../load.ts";
import { fmt, shape } from "../report.ts";
import { writeResults } from "../results.ts";
import { STANDARD } from "../scenarios.ts";
import { REPO_ROOT, startTarget, type RunningServer, type Storage } from "../servers.ts";
import { stopOnExit } from "../util.ts";
import {
  ADMIN,
  callTimes,
  filterBundle,
  filterIds,
  hookFailures,
  installFilters,
  turnOnAndCheck,
} from "./plugins.ts";
import {
  CASE_NAMES,
  CASES,
  numbersOf,
  runsTable,
  summaryTable,
  warnings,
  type CaseName,
  type CaseRun,
} from "./report.ts";

const { values: flags } = parseArgs({
  options: {
    cases: { type: "string", default: CASE_NAMES.join(",") },
    rounds: { type: "string", default: "1" },
    posts: { type: "string", default: "50" },
    clients: { type: "string", default: "100" },
    senders: { type: "string", default: "100" },
    pace: { type: "string", default: "20" },
    size: { type: "string", default: "100" },
    warmup: { type: "string", default: "2" },
    drain: { type: "string", default: "10" },
    "try-calls": { type: "string", default: "40" },
    client: { type: "string", default: "sdk" },
    target: { type: "string", default: "edgechat-dev" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const USAGE = [
  "usage: node bench/hooks/run.ts [--cases none,one,five] [--rounds N] [--posts N]",
  "       [--clients N] [--senders N] [--pace MSG/S] [--size CHARS] [--warmup S] [--drain S]",
  "       [--try-calls N] [--client sdk|raw] [--target edgechat-dev|edgechat-direct]",
  "       [--storage disk|tmpfs] [--server-root DIR] [--label TEXT] [--out FILE]",
  "One room of --clients clients, the first --senders of them posting in a closed loop (each at",
  "most --pace msg/s), --posts measured posts each after --warmup s; with no plugin, one and five",
  "before-commit hooks (the profanity filter) on in the room, a fresh wrangler dev per case,",
  "--rounds rounds (the order of --cases, reversed every other round).",
].join("\n");

const log = (line: string) => console.error(line);

function whole(flag: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: a whole number ≥ ${min}`);
  return n;
}

function caseOrder(): CaseName[] {
  const named = flags.cases!.split(",").map((c) => c.trim());
  for (const c of named)
    if (!(CASE_NAMES as string[]).includes(c))
      throw new Error(`--cases: ${c}? any of ${CASE_NAMES.join(", ")}`);
  if (!named.includes("none")) throw new Error("--cases: the ratios need none");
  return named as CaseName[];
}

const storage = flags.storage as Storage;
if (storage !== "disk" && storage !== "tmpfs") throw new Error("--storage: disk or tmpfs");
const client = flags.client as ClientKind;
if (client !== "raw" && client !== "sdk") throw new Error("--client: raw or sdk");
const target = flags.target as ServerChoice["target"];
if (target !== "edgechat-dev" && target !== "edgechat-direct")
  throw new Error("--target: edgechat-dev or edgechat-direct");
const server: ServerChoice = {
  target,
  storage,
  serverRoot: resolve(flags["server-root"] ?? REPO_ROOT),
};

/** The load benchmark's closed loop in one room, a fixed number of posts per sender. */
const scenario: Scenario = {
  ...STANDARD["closed-loop"]!,
  clients: whole("clients", flags.clients),
  senders: whole("senders", flags.senders),
  pace: whole("pace", flags.pace, 0),
  size: whole("size", flags.size),
  warmup: whole("warmup", flags.warmup, 0),
  drain: whole("drain", flags.drain),
  posts: whole("posts", flags.posts),
};
if (scenario.senders > scenario.clients) throw new Error("--senders: at most --clients");
const tryCalls = whole("try-calls", flags["try-calls"], 0);
const INSTALLED = filterIds(Math.max(...Object.values(CASES)));

let running: RunningServer | undefined;
const { stopAndExit } = stopOnExit(async () => running?.stop());

async function runCase(round: number, name: CaseName, code: string): Promise<CaseRun> {
  const loadAverage = loadavg();
  const on = INSTALLED.slice(0, CASES[name]);
  const started = await startTarget(server.target, {
    ...server,
    vars: { ADMIN_USERNAMES: ADMIN.username },
  });
  running = started;
  try {
    // Every case installs the same five, so that only what the room has on differs.
    const admin = await installFilters(started.url, code, INSTALLED);
    let end: (() => CpuWindow) | undefined;
    let cpu: CpuWindow | undefined;
    const { timeline: _timeline, ...result } = await runScenario(
      {
        target: server.target,
        baseUrl: started.url,
        client,
        log,
        probe: { start: () => (end = cpuWindow(started)), end: () => (cpu = end?.()) },
        prepare: async (owner, rooms) => {
          for (const room of rooms) await turnOnAndCheck(started.url, owner, room, on);
        },
      },
      scenario,
    );
    const failures = hookFailures(readFileSync(started.logFile!, "utf8"));
    const calls =
      on.length && tryCalls ? await callTimes(admin, "bench-0", on, tryCalls) : undefined;
    return { round, name, result, cpu: cpu!, failures, calls, loadAverage };
  } finally {
    await started.stop();
    running = undefined;
  }
}

function markdown(started: number, elapsed: number, runs: CaseRun[], loadAtStart: number[]) {
  const rounds = Math.max(...runs.map((r) => r.round));
  const problems = warnings(runs);
  return [
    `## Before-commit hooks on the load benchmark${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ${loadAtStart.map((l) => fmt(l, 2)).join(" ")}, at the end ${loadavg()
      .map((l) => fmt(l, 2))
      .join(" ")}. ` +
      `edgechat: \`wrangler dev\` in ${server.serverRoot}${target === "edgechat-direct" ? " (the clients straight to its runtime)" : ""}, storage on ${storage}; a fresh server and storage per case, the five filters installed in each. ` +
      `Workload: ${shape(scenario)} (${scenario.posts! * scenario.senders} in all, the same in every case), ${client} clients; ` +
      `${rounds} round(s), the cases in the order ${caseOrder().join(", ")} (reversed every other round).`,
    "",
    "Committed msg/s: posts acked in the window over the window (its first measured send to its last post's return). " +
      "Ack latency: from a post's send to its ack. Runtime CPU: the worker's workerd (rooms, plugin isolates, their stores) over the window, per acked post. " +
      "×none: the median over rounds of the ratio to the same round's no-plugin run (min–max). " +
      "Hook call ms: the runner's time for one before-commit call (`ms` of `POST /api/admin/plugins/{id}/try`, whole ms) in the bench room's sandbox after the window, idle, " +
      `${tryCalls} per plugin; failed hook calls: the room's \`plugin hook failed\` log lines (a failed hook lets the post through unscreened).`,
    "",
    summaryTable(runs),
    "",
    runsTable(runs),
    "",
    problems.length
      ? ["Warnings:", ...problems.map((p) => `- ${p}`)].join("\n")
      : "No warnings: every post acked and delivered once, in order, in the log; every hook call ok.",
    "",
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  const code = await filterBundle();
  const runs: CaseRun[] = [];
  const rounds = whole("rounds", flags.rounds);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? caseOrder() : [...caseOrder()].reverse();
    for (const name of order) {
      log(
        `[round ${round} ${name}] starting (load ${loadavg()
          .map((l) => fmt(l, 2))
          .join(" ")})`,
      );
      const run = await runCase(round, name, code);
      const n = numbersOf(run);
      log(
        `  ${run.result.acked}/${run.result.sent} acked, ${fmt(n.committedPerS)} msg/s, ack p50/p95/p99 ${fmt(n.ackP50)}/${fmt(n.ackP95)}/${fmt(n.ackP99)} ms, ` +
          `runtime ${fmt(n.cpuPerPost, 3)} ms/post (busy ${fmt(n.runtimeBusy, 2)}), others ${fmt(run.cpu.othersCores, 2)} cores` +
          (run.calls ? `, idle call ${fmt(run.calls.ms.mean, 2)} ms` : "") +
          `, failed hooks ${JSON.stringify(run.failures.byOutcome)}`,
      );
      runs.push(run);
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  const md = markdown(started, elapsed, runs, loadAtStart);
  console.log(md);
  const file = writeResults(
    "hooks-",
    started,
    elapsed,
    {
      label: flags.label,
      flags,
      serverRoot: server.serverRoot,
      scenario,
      loadAtStart,
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

// Each case has its own bounds (start, sign-ins, connect, 10 s per post, the drain); this
// catches anything past them.
const bound = 2 + whole("rounds", flags.rounds) * caseOrder().length * 6;
setTimeout(() => {
  log(`bench: watchdog: gave up after ${bound} minutes`);
  stopAndExit(2);
}, bound * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    stopAndExit(1);
  },
);
