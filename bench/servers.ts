/**
 * The benchmark's targets, each in its own process tree, and CPU accounting from /proc (Linux).
 *
 * - `raw`: bench/raw-server.ts, a minimal Node `ws` broadcast server (this machine's ceiling).
 * - `edgechat-dev`: the real user path, `wrangler dev` (what `npm run dev` runs) as a child
 *   process: wrangler's dev proxy (a workerd) in front of the workerd that runs the worker and
 *   its Durable Objects, storage under `--persist-to`.
 * - `edgechat-direct`: the same `wrangler dev`, but the clients connect straight to the inner
 *   workerd (its port found from /proc), skipping the proxy, as the raw server's clients do.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/server.ts";
import { sleep } from "./util.ts";

export { freePort };

export type TargetName = "raw" | "edgechat-dev" | "edgechat-direct";
export const TARGETS: readonly TargetName[] = ["raw", "edgechat-dev", "edgechat-direct"];

/** Where the Durable Objects' SQLite files live: the VM's disk, or memory. */
export type Storage = "disk" | "tmpfs";
export const STORAGE_ROOT: Record<Storage, string> = { disk: "/tmp", tmpfs: "/dev/shm" };

export type RunningServer = {
  readonly target: TargetName;
  readonly url: string;
  /** The root of the server's process tree. */
  readonly pid: number;
  /** edgechat: the workerd that runs the worker and the Durable Objects (looked up afresh). */
  runtimePid(): number | undefined;
  /** Names a process of the tree for the CPU report (runtime, proxy, wrangler, raw). */
  role(pid: number): string;
  /** edgechat: what `wrangler dev` printed so far (its log file, removed at stop). */
  readonly logFile?: string;
  stop(): Promise<void>;
};

export type ServerOptions = {
  storage: Storage;
  /** The edgechat tree that `wrangler dev` runs (its wrangler.toml, src/, public/). */
  serverRoot: string;
  timeoutMs?: number;
  /** edgechat: log the worker's workerd's fsync/fdatasync calls to this file (strace-workerd.sh). */
  straceFile?: string;
  /** edgechat: the port of wrangler's inspector (DevTools protocol), for profile.ts. */
  inspectorPort?: number;
  /** edgechat: more worker vars, each passed as `--var NAME:VALUE` (a benchmark's own switches). */
  vars?: Record<string, string>;
  /**
   * edgechat: `wrangler dev --log-level` (`warn`). `info` adds a line per request and per
   * queue batch (`QUEUE <queue> <acked>/<total>`), which bench:integrations counts.
   */
  logLevel?: "warn" | "info";
};

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

export async function startTarget(
  target: TargetName,
  options: ServerOptions,
): Promise<RunningServer> {
  return target === "raw" ? startRaw(options) : startWranglerDev(target, options);
}

// ---------------------------------------------------------------- process groups

/** Groups started by this process, killed on the way out whatever happens. */
const groups = new Set<number>();
/**
 * Storage folders of servers not stopped yet: a run stopped while a server is still starting
 * (SIGTERM before it answers) has no handle on it, and its folder must not stay behind.
 */
const storageDirs = new Set<string>();
process.once("exit", () => {
  for (const pgid of groups) signalGroup(pgid, "SIGKILL");
  for (const dir of storageDirs) rmSync(dir, { recursive: true, force: true });
});

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // no process left in the group
  }
}

/** Spawns `args` with node in a process group of its own, so that stopping it reaches its children. */
function spawnGroup(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  logFile?: string,
): ChildProcess {
  const log = logFile ? openSync(logFile, "a") : "inherit";
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["pipe", logFile ? log : "pipe", log],
  });
  if (typeof log === "number") closeSync(log);
  groups.add(child.pid!);
  return child;
}

/** SIGTERM to the group, then SIGKILL to whatever of it is left after a bound. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid!;
  child.stdin?.end();
  signalGroup(pgid, "SIGTERM");
  for (let waited = 0; waited < 10_000 && signalGroup(pgid, 0); waited += 100) await sleep(100);
  signalGroup(pgid, "SIGKILL");
  for (let waited = 0; waited < 3_000 && signalGroup(pgid, 0); waited += 100) await sleep(100);
  groups.delete(pgid);
}

async function waitFor(
  what: string,
  timeoutMs: number,
  child: ChildProcess,
  ready: () => Promise<boolean>,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited early (code ${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- raw

async function startRaw(options: ServerOptions): Promise<RunningServer> {
  const child = spawnGroup(["bench/raw-server.ts"], REPO_ROOT, {});
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`raw server exited early (code ${code})`)));
      setTimeout(
        () => reject(new Error("raw server did not start")),
        options.timeoutMs ?? 30_000,
      ).unref();
    });
    const { port } = JSON.parse(line) as { port: number };
    return {
      target: "raw",
      url: `http://127.0.0.1:${port}`,
      pid: child.pid!,
      runtimePid: () => child.pid,
      role: () => "raw",
      stop: () => stopGroup(child),
    };
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
}

// ---------------------------------------------------------------- the gRPC gateway

export type RunningGateway = {
  /** h2c: plain gRPC, gRPC-web and Connect. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
};

/**
 * `npm run grpc-gateway` (scripts/grpc-gateway.ts, src/gateway/) in a process of its own, as it
 * is deployed, in front of `upstreams`, on a free port of 127.0.0.1; ready once it printed its
 * address.
 */
export async function startGatewayProcess(
  upstreams: readonly string[],
  timeoutMs = 30_000,
): Promise<RunningGateway> {
  const child = spawnGroup(["scripts/grpc-gateway.ts"], REPO_ROOT, {
    GATEWAY_UPSTREAMS: upstreams.join(","),
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the gateway exited early (code ${code})`)));
      setTimeout(() => reject(new Error("the gateway did not start")), timeoutMs).unref();
    });
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
    if (!url) throw new Error(`the gateway said: ${line}`);
    return { url, pid: child.pid!, stop: () => stopGroup(child) };
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
}

// ---------------------------------------------------------------- wrangler dev

const healthy = (url: string) =>
  fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => r.ok,
    () => false,
  );

/**
 * `wrangler dev --ip 127.0.0.1 --port P --persist-to DIR` in `serverRoot`, with a JWT secret as
 * `--var` (what .dev.vars gives `npm run dev`) and without fetching account data or sending
 * metrics; its output goes to DIR/wrangler.log. DIR is fresh and removed at stop.
 */
const BENCH_LIFTED_LIMITS = [
  "LIMIT_GUESTS_PER_IP",
  "LIMIT_ROOMS_PER_USER",
  "LIMIT_ROOMS_PER_IP",
  "LIMIT_ROOMS_OWNED",
] as const;

async function startWranglerDev(
  target: TargetName,
  options: ServerOptions,
): Promise<RunningServer> {
  buildUi(options.serverRoot);
  const port = await freePort();
  const dir = mkdtempSync(join(STORAGE_ROOT[options.storage], "edgechat-bench-"));
  storageDirs.add(dir);
  const secret = randomBytes(32).toString("base64url");
  const wrangler = join(options.serverRoot, "node_modules/wrangler/bin/wrangler.js");
  const args = [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", dir];
  args.push("--var", `JWT_SECRET:${secret}`, "--show-interactive-dev-session=false");
  // Every bench client signs in as a guest from this one address, and the bench creates its rooms:
  // those limits (docs/limits.md) are lifted; the ones on commands and sockets stay as shipped.
  for (const limit of BENCH_LIFTED_LIMITS) args.push("--var", `${limit}:1000000`);
  for (const [name, value] of Object.entries(options.vars ?? {}))
    args.push("--var", `${name}:${value}`);
  args.push("--log-level", options.logLevel ?? "warn");
  if (options.inspectorPort) args.push("--inspector-port", String(options.inspectorPort));
  const env = {
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    ...(options.straceFile ? traced(options.serverRoot, options.straceFile) : {}),
  };
  const child = spawnGroup(args, options.serverRoot, env, join(dir, "wrangler.log"));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopGroup(child);
    reportLog(join(dir, "wrangler.log"));
    rmSync(dir, { recursive: true, force: true });
    storageDirs.delete(dir);
  };
  try {
    await waitFor("wrangler dev", options.timeoutMs ?? 90_000, child, () => healthy(url));
    const runtime = () => workerdOf(child.pid!, port);
    let direct: string | undefined;
    if (target === "edgechat-direct") {
      await waitFor("the inner workerd", 30_000, child, async () => {
        direct = await directUrl(runtime().runtime);
        return direct !== undefined;
      });
    }
    return {
      target,
      url: direct ?? url,
      pid: child.pid!,
      runtimePid: () => runtime().runtime,
      role: (pid) => {
        const { runtime: r, proxy } = runtime();
        return pid === r ? "runtime" : pid === proxy ? "proxy" : "wrangler";
      },
      logFile: join(dir, "wrangler.log"),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What wrangler and the worker said (warnings and errors: console.error in a room shows here):
 * the last lines on stderr, and a long log kept in bench/results/ for a closer look.
 */
function reportLog(file: string): void {
  const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
  if (lines.length === 0 || lines[0] === "") return;
  console.error(`  wrangler dev said (${lines.length} lines, the last 3):`);
  for (const line of lines.slice(-3)) console.error(`    ${line.slice(0, 300)}`);
  if (lines.length <= 20) return;
  const kept = fileURLToPath(new URL(`./results/wrangler-${Date.now()}.log`, import.meta.url));
  mkdirSync(dirname(kept), { recursive: true });
  copyFileSync(file, kept);
  console.error(`    (all of it: ${kept})`);
}

/** The environment that makes miniflare start the worker's workerd under strace. */
function traced(serverRoot: string, file: string): NodeJS.ProcessEnv {
  const miniflare = createRequire(join(serverRoot, "node_modules/wrangler/package.json")).resolve(
    "miniflare",
  );
  const workerd = (createRequire(miniflare)("workerd") as { default: string }).default;
  return {
    MINIFLARE_WORKERD_PATH: join(REPO_ROOT, "bench/strace-workerd.sh"),
    BENCH_WORKERD: workerd,
    BENCH_STRACE_OUT: file,
  };
}

/** wrangler serves the UI from public/, which `npm run dev` builds first: build it once if missing. */
function buildUi(serverRoot: string): void {
  if (existsSync(join(serverRoot, "public/index.html"))) return;
  console.error(`  building the UI in ${serverRoot} (scripts/build-web.mjs)`);
  execFileSync(process.execPath, ["scripts/build-web.mjs"], {
    cwd: serverRoot,
    stdio: "inherit",
    timeout: 120_000,
  });
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** The two workerds of a `wrangler dev` tree: the proxy listens on the public port. */
function workerdOf(root: number, port: number): { runtime?: number; proxy?: number } {
  const found: { runtime?: number; proxy?: number } = {};
  for (const pid of descendants(root)) {
    const cmd = cmdline(pid);
    // workerd itself, not a wrapper (strace) whose command line names it.
    if (!/^\S*workerd serve /.test(cmd)) continue;
    if (cmd.includes(`entry=127.0.0.1:${port} `)) found.proxy = pid;
    else found.runtime = pid;
  }
  return found;
}

/** The inner workerd's entry port, once it answers. */
async function directUrl(runtime: number | undefined): Promise<string | undefined> {
  if (runtime === undefined) return undefined;
  for (const port of listeningPorts(runtime)) {
    const url = `http://127.0.0.1:${port}`;
    if (await healthy(url)) return url;
  }
  return undefined;
}

// ---------------------------------------------------------------- /proc

export type ProcCpu = { pid: number; name: string; cpuMs: number };

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procStats(): Map<number, { ppid: number; name: string; cpuMs: number }> {
  const stats = new Map<number, { ppid: number; name: string; cpuMs: number }>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return stats;
  }
  for (const e of entries) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = raw.lastIndexOf(")");
      const fields = raw.slice(close + 2).split(" ");
      // fields[0] = state (field 3); ppid is field 4, utime 14, stime 15.
      stats.set(Number(e), {
        ppid: Number(fields[1]),
        name: raw.slice(raw.indexOf("(") + 1, close),
        cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      });
    } catch {
      // the process exited meanwhile
    }
  }
  return stats;
}

function treeOf(pid: number, parents: Map<number, { ppid: number }>): number[] {
  const want = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of parents)
      if (!want.has(p) && want.has(s.ppid)) (want.add(p), (grew = true));
  }
  return [...want];
}

/** The pids of `pid` and its descendants. */
export function descendants(pid: number): number[] {
  return treeOf(pid, procStats());
}

/**
 * CPU time the whole machine has spent busy (every core, every process: /proc/stat's user,
 * nice, system, irq, softirq and steal), for telling how much of a window others took. 0 off Linux.
 */
export function machineCpuMs(): number {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU time (user+system) of `pid` and all its descendants, per process. Empty off Linux. */
export function treeCpu(pid: number): ProcCpu[] {
  const stats = procStats();
  return treeOf(pid, stats).flatMap((p) => {
    const s = stats.get(p);
    return s ? [{ pid: p, name: s.name, cpuMs: s.cpuMs }] : [];
  });
}

/** CPU spent between two samples, summed per role (see RunningServer.role). */
export function cpuDelta(
  before: ProcCpu[],
  after: ProcCpu[],
  role: (pid: number) => string,
): Record<string, number> {
  const base = new Map(before.map((p) => [p.pid, p.cpuMs]));
  const out: Record<string, number> = {};
  for (const p of after) {
    const key = role(p.pid);
    out[key] = (out[key] ?? 0) + p.cpuMs - (base.get(p.pid) ?? 0);
  }
  return out;
}

/** TCP ports on 127.0.0.1 that process `pid` listens on (Linux /proc). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9]!)) continue;
    ports.push(parseInt(f[1]!.split(":")[1]!, 16));
  }
  return ports;
}
