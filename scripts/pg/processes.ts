/**
 * Process state on a machine whose PID 1 does not reap children: zombies, reused pids, stale
 * pid files, and bounded waits.
 */
import { readFile, readlink, stat } from "node:fs/promises";
import { readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { platform } from "node:os";
import { join, resolve } from "node:path";
import { isRoot } from "./postgres-user.ts";

// ----------------------------------------------------------------------------------------------
// processes

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A killed postmaster whose parent (often a container's pid 1) does not reap it stays a zombie.
  if (platform() === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z" || state === "X") return false;
    } catch {
      return false;
    }
  }
  return true;
}

export function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Processes whose working directory is `dir` (a postmaster and all its children chdir there). */
export function processesIn(dir: string): number[] {
  if (platform() !== "linux") return [];
  const target = realpathOr(dir);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === target) pids.push(Number(entry));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids.filter((pid) => pid !== process.pid);
}

export type PidState =
  | { state: "none" }
  | { state: "running"; pid: number; port: number }
  | { state: "stale"; pid: number };

/** Reads postmaster.pid and tells whether it belongs to a live postmaster of this folder. */
export async function readPidFile(dir: string): Promise<PidState> {
  let text: string;
  try {
    text = await readFile(join(dir, "postmaster.pid"), "utf8");
  } catch {
    return { state: "none" };
  }
  const lines = text.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  if (!Number.isFinite(pid) || !pidAlive(pid)) return { state: "stale", pid };
  if (platform() === "linux") {
    // The pid may have been reused by an unrelated process after a crash or reboot.
    try {
      const cwd = await readlink(`/proc/${pid}/cwd`);
      if (cwd !== realpathOr(dir)) return { state: "stale", pid };
    } catch (error) {
      // EACCES when not root and the pid belongs to someone else: then it is not our postmaster.
      if ((error as NodeJS.ErrnoException).code !== "EACCES" || isRoot)
        return { state: "stale", pid };
    }
  }
  return { state: "running", pid, port };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** Thrown by a probe to stop waiting at once: the node's postmaster is gone. */
export class NodeDied extends Error {}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof NodeDied) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
