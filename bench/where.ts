/**
 * Where the time goes: the same open-loop load at two fan-out widths against the worker's own
 * workerd (edgechat-direct, so wrangler's proxy is not counted) and against the raw server, then
 * once more under strace to count the fsyncs. From the runtime's CPU in the measured windows:
 *
 *   CPU = commands × (cost per command) + deliveries × (cost per delivered event)
 *
 * solved from the narrow and the wide room (same commands, different deliveries). The fsyncs are
 * counted in the wide window by running that workerd under strace (strace-workerd.sh). Per storage
 * (disk, tmpfs) and per kind of client (sdk: edgechat.v1.batch, one send per socket and turn;
 * raw: plain edgechat.v1, one send per event and socket).
 *
 * Before and after a change: `--server-root` and `--label` take comma lists and `--repeat N` runs
 * every tree N times, alternated (A B, then B A, …) so that the noise of a shared machine hits
 * both alike; a last table gives each tree's median and range, and the ratio to the first tree
 * per repetition.
 *
 *   node bench/where.ts [--storage disk|tmpfs|both] [--client sdk|raw|both] [--server-root DIR[,DIR…]]
 *                       [--label TEXT[,TEXT…]] [--repeat N] [--target raw,edgechat-direct]
 *                       [--rate MSG/S] [--senders N] [--duration S] [--narrow N] [--wide N]
 *                       [--no-strace] [--out FILE]
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BOTH, type ClientKind } from "./clients.ts";
import { runScenario, type RunResult, type Scenario } from "./load.ts";
import { writeResults } from "./results.ts";
import {
  cpuDelta,
  REPO_ROOT,
  startTarget,
  treeCpu,
  type Storage,
  type TargetName,
} from "./servers.ts";

const STRACE = "/usr/bin/strace";

const { values: flags } = parseArgs({
  options: {
    storage: { type: "string", default: "both" },
    client: { type: "string", default: "both" },
    "server-root": { type: "string" },
    label: { type: "string" },
    repeat: { type: "string", default: "1" },
    target: { type: "string", default: "raw,edgechat-direct" },
    rate: { type: "string", default: "100" },
    senders: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    narrow: { type: "string", default: "10" },
    wide: { type: "string", default: "100" },
    "no-strace": { type: "boolean" },
    out: { type: "string" },
  },
});

type Window = {
  clients: number;
  commands: number;
  deliveries: number;
  frames: number;
  runtimeCpuMs: number;
  /** The runtime's CPU over the window's wall time: well under 1 for a clean split. */
  busy: number;
  p50Ms: number;
  p99Ms: number;
  /** WebSocket payload bytes received per delivered event (acks and batches included). */
  bytesPerDelivery: number;
  /** Mean size of a plain `event` frame (raw clients; NaN for sdk, whose batches mix frames). */
  eventFrameBytes: number;
};
type Syscalls = { calls: number; seconds: number };
type Breakdown = {
  label: string;
  repetition: number;
  storage: Storage;
  client: ClientKind;
  target: TargetName;
  narrow: Window;
  wide: Window;
  perCommandMs: number;
  perDeliveryUs: number;
  framesPerCommandWide: number;
  fsync?: Syscalls & { commands: number; perCommand: number; msPerCommand: number };
  loadAverage: number[];
};

const log = (line: string) => console.error(line);
const rate = Number(flags.rate);
const duration = Number(flags.duration);

const scenario = (clients: number): Scenario => ({
  name: `where-${clients}`,
  mode: "open",
  rooms: 1,
  clients,
  senders: Number(flags.senders),
  rate,
  size: 100,
  duration,
  warmup: 2,
  drain: 5,
  pace: 0,
  shards: 0,
});

/** The CPU of the process that runs the room (the worker's workerd, or the raw server). */
const runtimeCpu = (cpu: Record<string, number>) => cpu.runtime ?? cpu.raw ?? 0;

type Measured = { window: Window; fsync?: Syscalls };

/**
 * One measured window on a fresh server: the runtime's CPU in it, and (edgechat, unless
 * --no-strace) its fsync/fdatasync calls in it, from the strace log read once the server stopped.
 */
async function measureWindow(
  target: TargetName,
  storage: Storage,
  client: ClientKind,
  clients: number,
  serverRoot: string,
): Promise<Measured> {
  const trace = target !== "raw" && !flags["no-strace"] && existsSync(STRACE);
  const straceFile = trace
    ? join(tmpdir(), `edgechat-strace-${process.pid}-${Date.now()}.txt`)
    : undefined;
  const server = await startTarget(target, { storage, serverRoot, straceFile });
  let result: RunResult;
  let cpu: Record<string, number> = {};
  let span: [number, number] = [0, 0];
  try {
    let before = treeCpu(server.pid);
    const probe = {
      start: () => {
        before = treeCpu(server.pid);
        span = [Date.now(), 0];
      },
      end: () => {
        cpu = cpuDelta(before, treeCpu(server.pid), server.role);
        span[1] = Date.now();
      },
    };
    result = await runScenario(
      { target, baseUrl: server.url, client, log, probe },
      scenario(clients),
    );
  } finally {
    await server.stop();
  }
  const deliveries = Math.round(result.deliveriesPerS * result.durationS);
  const events = result.eventFramesInWindow;
  const window: Window = {
    clients,
    commands: Math.round(result.ackedPerS * result.durationS),
    deliveries,
    frames: result.framesInWindow,
    runtimeCpuMs: runtimeCpu(cpu),
    busy: runtimeCpu(cpu) / (span[1] - span[0]),
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    bytesPerDelivery: result.bytesInWindow / deliveries,
    eventFrameBytes: events.bytes / events.frames,
  };
  if (!straceFile) return { window };
  const text = existsSync(straceFile) ? readFileSync(straceFile, "utf8") : "";
  rmSync(straceFile, { force: true });
  return { window, fsync: countSyncs(text, span[0] / 1000, span[1] / 1000) };
}

/**
 * Counts the fsync/fdatasync calls that strace (-f -ttt -T) logged between two epoch times, with
 * their summed duration. A call interrupted by another thread's is logged as `<unfinished ...>`
 * and later `<... fsync resumed>`, which carries the duration.
 */
export function countSyncs(text: string, from: number, to: number): Syscalls {
  let calls = 0;
  let seconds = 0;
  for (const line of text.split("\n")) {
    const m = /^\d+\s+(\d+\.\d+)\s+(?:<\.\.\. )?(fsync|fdatasync)\b.*?(?:<(\d+\.\d+)>)?$/.exec(
      line,
    );
    if (!m) continue;
    const at = Number(m[1]);
    if (at < from || at > to) continue;
    if (!line.includes("resumed>")) calls += 1;
    if (m[3]) seconds += Number(m[3]);
  }
  return { calls, seconds };
}

type Tree = { root: string; label: string };

async function breakdown(
  target: TargetName,
  storage: Storage,
  client: ClientKind,
  tree: Tree,
  repetition: number,
): Promise<Breakdown> {
  const serverRoot = tree.root;
  const loadAverage = loadavg();
  const narrowClients = Number(flags.narrow);
  const wideClients = Number(flags.wide);
  log(
    `[where ${tree.label} #${repetition} ${storage} ${client} ${target}] ${narrowClients} then ${wideClients} clients, ${rate} msg/s`,
  );
  const n = await measureWindow(target, storage, client, narrowClients, serverRoot);
  const w = await measureWindow(target, storage, client, wideClients, serverRoot);
  const narrow = n.window;
  const wide = w.window;
  // CPU = c × perCommand + d × perDelivery, from the two windows (same rate, different widths).
  const perDelivery =
    (wide.runtimeCpuMs / wide.commands - narrow.runtimeCpuMs / narrow.commands) /
    (wide.deliveries / wide.commands - narrow.deliveries / narrow.commands);
  const perCommand =
    narrow.runtimeCpuMs / narrow.commands - perDelivery * (narrow.deliveries / narrow.commands);
  const out: Breakdown = {
    label: tree.label,
    repetition,
    storage,
    client,
    target,
    narrow,
    wide,
    perCommandMs: perCommand,
    perDeliveryUs: perDelivery * 1000,
    framesPerCommandWide: wide.frames / wide.commands,
    loadAverage,
  };
  if (w.fsync)
    out.fsync = {
      ...w.fsync,
      commands: wide.commands,
      perCommand: w.fsync.calls / wide.commands,
      msPerCommand: (w.fsync.seconds * 1000) / wide.commands,
    };
  log(`[where ${tree.label} #${repetition} ${storage} ${client} ${target}] ${JSON.stringify(out)}`);
  return out;
}

const f = (n: number | undefined, d = 2) =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(d);

function markdown(rows: Breakdown[]): string {
  const lines = [
    `## Where the time goes${flags.label ? ` (${flags.label})` : ""}: ${rate} msg/s open loop, ${flags.senders} senders, 1 room of ${flags.narrow} then ${flags.wide} clients, ${duration} s windows`,
    "",
    "| tree | # | storage | client | target | CPU ms per command | CPU µs per delivered event | frames received per command (wide) | runtime CPU s narrow / wide | runtime busy narrow / wide | p50 ms narrow / wide | p99 ms narrow / wide | bytes per event frame | fsyncs per command | fsync ms per command |",
    "| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows)
    lines.push(
      `| ${r.label} | ${r.repetition} | ${r.storage} | ${r.client} | ${r.target} | ${f(r.perCommandMs, 3)} | ${f(r.perDeliveryUs, 1)} | ${f(r.framesPerCommandWide, 1)} | ${f(r.narrow.runtimeCpuMs / 1000)} / ${f(r.wide.runtimeCpuMs / 1000)} | ${f(r.narrow.busy)} / ${f(r.wide.busy)} | ${f(r.narrow.p50Ms, 1)} / ${f(r.wide.p50Ms, 1)} | ${f(r.narrow.p99Ms, 1)} / ${f(r.wide.p99Ms, 1)} | ${f(r.wide.eventFrameBytes, 1)} | ${f(r.fsync?.perCommand)} | ${f(r.fsync?.msPerCommand, 3)} |`,
    );
  return lines.join("\n");
}

/** What the comparison table sets side by side, per tree. */
const METRICS: Array<[string, (r: Breakdown) => number, number]> = [
  // The split first, then what it is solved from: a window's whole CPU per command, which holds
  // even when the split is lost in the noise (a small difference between two noisy widths).
  ["CPU µs per command", (r) => r.perCommandMs * 1000, 0],
  ["CPU µs per delivered event", (r) => r.perDeliveryUs, 1],
  [
    "runtime CPU µs per command, narrow (all)",
    (r) => (r.narrow.runtimeCpuMs / r.narrow.commands) * 1000,
    0,
  ],
  [
    "runtime CPU µs per command, wide (all)",
    (r) => (r.wide.runtimeCpuMs / r.wide.commands) * 1000,
    0,
  ],
  ["runtime busy, narrow", (r) => r.narrow.busy, 2],
  ["runtime busy, wide", (r) => r.wide.busy, 2],
  ["latency p50 ms, narrow", (r) => r.narrow.p50Ms, 1],
  ["latency p99 ms, narrow", (r) => r.narrow.p99Ms, 1],
  ["latency p50 ms, wide", (r) => r.wide.p50Ms, 1],
  ["latency p99 ms, wide", (r) => r.wide.p99Ms, 1],
  ["bytes per event frame", (r) => r.wide.eventFrameBytes, 1],
  ["bytes received per delivered event", (r) => r.wide.bytesPerDelivery, 1],
  ["fsyncs per command (wide)", (r) => r.fsync?.perCommand ?? NaN, 2],
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (xs: number[], d: number) =>
  xs.length === 0 ? "–" : `${f(median(xs), d)} (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})`;

/**
 * Each tree's median (min–max) over the repetitions, and its ratio to the first tree taken per
 * repetition (the two ran next to each other, under the same noise), for every storage × client.
 */
function comparison(rows: Breakdown[], trees: Tree[]): string {
  const [base, ...others] = trees;
  const lines = [
    `## Compared (median, min–max over ${flags.repeat} alternated repetitions)`,
    "",
    `| storage | client | metric | ${trees.map((t) => t.label).join(" | ")} | ${others.map((t) => `${t.label} / ${base!.label}`).join(" | ")} |`,
    `| --- | --- | --- | ${trees.map(() => "---:").join(" | ")} | ${others.map(() => "---:").join(" | ")} |`,
  ];
  const edge = rows.filter((r) => r.target !== "raw");
  const groups = new Set(edge.map((r) => `${r.storage} ${r.client}`));
  for (const group of groups) {
    const of = (t: Tree) =>
      edge.filter((r) => `${r.storage} ${r.client}` === group && r.label === t.label);
    for (const [name, get, d] of METRICS) {
      const values = trees.map((t) =>
        spread(
          of(t)
            .map(get)
            .filter((x) => !Number.isNaN(x)),
          d,
        ),
      );
      const ratios = others.map((t) => {
        const paired = of(t).map((r) => {
          const b = of(base!).find((x) => x.repetition === r.repetition);
          return b ? get(r) / get(b) : NaN;
        });
        return spread(
          paired.filter((x) => Number.isFinite(x)),
          2,
        );
      });
      lines.push(
        `| ${group.replace(" ", " | ")} | ${name} | ${values.join(" | ")} | ${ratios.join(" | ")} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The trees to run: `--server-root` and `--label` as comma lists, paired in order. */
function treesOf(): Tree[] {
  const roots = (flags["server-root"] ?? REPO_ROOT).split(",").map((r) => resolve(r));
  const labels = flags.label?.split(",") ?? [];
  return roots.map((root, i) => ({
    root,
    label: labels[i] ?? (roots.length > 1 ? `tree ${i + 1}` : ""),
  }));
}

/** Repetition n runs the trees in order, n+1 in reverse (A B B A …): neither always goes first. */
const orderFor = (trees: Tree[], repetition: number) =>
  repetition % 2 === 1 ? trees : [...trees].reverse();

async function main(): Promise<void> {
  const started = Date.now();
  const trees = treesOf();
  const repeat = Number(flags.repeat);
  const targets = flags.target.split(",") as TargetName[];
  const storages: Storage[] =
    flags.storage === "both" ? ["disk", "tmpfs"] : [flags.storage as Storage];
  const clients: ClientKind[] = flags.client === "both" ? [...BOTH] : [flags.client as ClientKind];
  const rows: Breakdown[] = [];
  for (const client of clients) {
    // The raw server is no tree's: once, as the machine's ceiling.
    if (targets.includes("raw"))
      rows.push(await breakdown("raw", "disk", client, { ...trees[0]!, label: "raw" }, 1));
    if (!targets.includes("edgechat-direct")) continue;
    for (let n = 1; n <= repeat; n += 1)
      for (const tree of orderFor(trees, n))
        for (const storage of storages)
          rows.push(await breakdown("edgechat-direct", storage, client, tree, n));
  }
  let md = markdown(rows);
  if (trees.length > 1) md += `\n\n${comparison(rows, trees)}`;
  console.log(md);
  const elapsed = (Date.now() - started) / 1000;
  log(
    `results: ${writeResults("where-", started, elapsed, { label: flags.label, trees, rows, markdown: md }, flags.out)}`,
  );
}

// 40 minutes for one tree once (both storages, both clients); more for repetitions.
const watchdogMinutes = 40 * Math.max(1, Number(flags.repeat) * treesOf().length);
const watchdog = setTimeout(() => {
  console.error(`where: watchdog: gave up after ${watchdogMinutes} minutes`);
  process.exit(2);
}, watchdogMinutes * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
