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
 *   node bench/where.ts [--storage disk|tmpfs|both] [--client sdk|raw|both] [--server-root DIR]
 *                       [--label TEXT] [--rate MSG/S] [--senders N] [--duration S] [--narrow N] [--wide N]
 *                       [--no-strace] [--out FILE]
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CLIENT_KINDS, type ClientKind } from "./clients.ts";
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
  p99Ms: number;
};
type Syscalls = { calls: number; seconds: number };
type Breakdown = {
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
  const window: Window = {
    clients,
    commands: Math.round(result.ackedPerS * result.durationS),
    deliveries: Math.round(result.deliveriesPerS * result.durationS),
    frames: result.framesInWindow,
    runtimeCpuMs: runtimeCpu(cpu),
    p99Ms: result.latencyMs.p99,
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

async function breakdown(
  target: TargetName,
  storage: Storage,
  client: ClientKind,
  serverRoot: string,
): Promise<Breakdown> {
  const loadAverage = loadavg();
  const narrowClients = Number(flags.narrow);
  const wideClients = Number(flags.wide);
  log(
    `[where ${storage} ${client} ${target}] ${narrowClients} then ${wideClients} clients, ${rate} msg/s`,
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
  log(`[where ${storage} ${client} ${target}] ${JSON.stringify(out)}`);
  return out;
}

function markdown(rows: Breakdown[]): string {
  const f = (n: number | undefined, d = 2) =>
    n === undefined || Number.isNaN(n) ? "–" : n.toFixed(d);
  const lines = [
    `## Where the time goes${flags.label ? ` (${flags.label})` : ""}: ${rate} msg/s open loop, ${flags.senders} senders, 1 room of ${flags.narrow} then ${flags.wide} clients, ${duration} s windows`,
    "",
    "| storage | client | target | CPU ms per command | CPU µs per delivered event | frames received per command (wide) | runtime CPU s narrow / wide | p99 ms narrow / wide | fsyncs per command | fsync ms per command |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows)
    lines.push(
      `| ${r.storage} | ${r.client} | ${r.target} | ${f(r.perCommandMs, 3)} | ${f(r.perDeliveryUs, 1)} | ${f(r.framesPerCommandWide, 1)} | ${f(r.narrow.runtimeCpuMs / 1000)} / ${f(r.wide.runtimeCpuMs / 1000)} | ${f(r.narrow.p99Ms, 1)} / ${f(r.wide.p99Ms, 1)} | ${f(r.fsync?.perCommand)} | ${f(r.fsync?.msPerCommand, 3)} |`,
    );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);
  const storages: Storage[] =
    flags.storage === "both" ? ["disk", "tmpfs"] : [flags.storage as Storage];
  const clients: ClientKind[] =
    flags.client === "both" ? [...CLIENT_KINDS] : [flags.client as ClientKind];
  const rows: Breakdown[] = [];
  for (const client of clients) {
    rows.push(await breakdown("raw", "disk", client, serverRoot));
    for (const storage of storages)
      rows.push(await breakdown("edgechat-direct", storage, client, serverRoot));
  }
  const md = markdown(rows);
  console.log(md);
  const elapsed = (Date.now() - started) / 1000;
  log(
    `results: ${writeResults("where-", started, elapsed, { label: flags.label, serverRoot, rows, markdown: md }, flags.out)}`,
  );
}

const watchdog = setTimeout(() => {
  console.error("where: watchdog: gave up after 40 minutes");
  process.exit(2);
}, 40 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
