/**
 * Starting and stopping the two targets, each in its own child process, plus CPU accounting of a
 * process tree from /proc (Linux) so the report can say where the CPU went.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** edgechat-direct: the same worker, but the clients skip wrangler's dev proxy (see edgechat-server.ts). */
export type TargetName = "raw" | "edgechat" | "edgechat-direct";

export type RunningServer = {
  readonly target: TargetName;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
};

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCRIPTS: Record<TargetName, string[]> = {
  raw: ["bench/raw-server.ts"],
  edgechat: ["bench/edgechat-server.ts"],
  "edgechat-direct": ["bench/edgechat-server.ts", "--direct"],
};

/** Spawns the target's server script with node and waits (bounded) for its first stdout line. */
export async function startTarget(
  target: TargetName,
  options: { persistRoot?: string; timeoutMs?: number } = {},
): Promise<RunningServer> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  // startServer() keeps the Durable Objects' SQLite files under os.tmpdir(), i.e. $TMPDIR.
  const env = {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...(options.persistRoot ? { TMPDIR: options.persistRoot } : {}),
  };
  const child = spawn(process.execPath, SCRIPTS[target], {
    cwd: ROOT,
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${target} server did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${target} server exited early (code ${code})`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  const info = JSON.parse(line) as { url?: string; directUrl?: string; port: number };
  return {
    target,
    url: info.directUrl ?? info.url ?? `http://127.0.0.1:${info.port}`,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

/** Asks politely (stdin EOF, then SIGTERM), then SIGKILLs this one child after a bound. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin?.end();
  const bounded = (ms: number) =>
    Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);
  if (await bounded(12_000)) return;
  child.kill("SIGTERM");
  if (await bounded(5_000)) return;
  child.kill("SIGKILL");
  await bounded(2_000);
}

export type ProcCpu = { pid: number; name: string; cpuMs: number };

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user+system) of `pid` and all its descendants, per process. Empty off Linux. */
export function treeCpu(pid: number): ProcCpu[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const stats = new Map<number, { ppid: number; name: string; cpuMs: number }>();
  for (const e of entries) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = raw.lastIndexOf(")");
      const name = raw.slice(raw.indexOf("(") + 1, close);
      const fields = raw.slice(close + 2).split(" ");
      // fields[0] = state (field 3); ppid is field 4, utime 14, stime 15.
      stats.set(Number(e), {
        ppid: Number(fields[1]),
        name,
        cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      });
    } catch {
      // the process exited meanwhile
    }
  }
  const out: ProcCpu[] = [];
  const want = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of stats) if (!want.has(p) && want.has(s.ppid)) (want.add(p), (grew = true));
  }
  for (const p of want) {
    const s = stats.get(p);
    if (s) out.push({ pid: p, name: s.name, cpuMs: s.cpuMs });
  }
  return out;
}

/** Per-process CPU spent between two samples, with a label per process (e.g. workerd#2). */
export function cpuDelta(before: ProcCpu[], after: ProcCpu[]): Record<string, number> {
  const base = new Map(before.map((p) => [p.pid, p.cpuMs]));
  const out: Record<string, number> = {};
  for (const p of after) {
    let key = `${p.name}`;
    for (let i = 2; key in out; i++) key = `${p.name}#${i}`;
    out[key] = p.cpuMs - (base.get(p.pid) ?? 0);
  }
  return out;
}

/** The pids of `pid` and its descendants. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const e of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, "utf8");
      parents.set(Number(e), Number(raw.slice(raw.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const want = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parents) if (!want.has(p) && want.has(pp)) (want.add(p), (grew = true));
  }
  return [...want];
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
