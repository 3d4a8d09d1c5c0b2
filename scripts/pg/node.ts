/** One Postgres node: its configuration, sockets, and starting and stopping it with pg_ctl. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { DATABASE, PASSWORD, USER, type NodeInfo, type Row } from "./layout.ts";
import {
  type Ids,
  type Result,
  getBinaries,
  ownByPostgres,
  runAsPostgres,
} from "./postgres-user.ts";
import { NodeDied, processesIn, readPidFile, sleep, tail, waitFor } from "./processes.ts";

// ----------------------------------------------------------------------------------------------
// nodes

/** Unix sockets live in the node's folder unless its path is too long for sun_path (107 bytes). */
export function socketDir(node: { dir: string; port: number }): string {
  if (`${node.dir}/.s.PGSQL.${node.port}`.length < 100) return node.dir;
  const hash = createHash("sha1").update(node.dir).digest("hex").slice(0, 12);
  return join(tmpdir(), `edgechat-pg-${hash}`);
}

/**
 * Runs `sql` on a node as `postgres` over its unix socket (trust: no password) with a client of
 * its own, closed afterwards. Resolves with the rows of the last statement that returned any.
 * @example
 * const [row] = await nodeQuery(node, "SELECT pg_is_in_recovery() AS recovery"); // { recovery: "t" }
 */
export async function nodeQuery(
  node: NodeInfo,
  sql: string,
  database = "postgres",
): Promise<Row[]> {
  const client = new Client({
    host: socketDir(node), // a folder: pg connects to the .s.PGSQL.<port> socket inside it
    port: node.port,
    user: USER,
    database,
    application_name: "edgechat-pg-tools",
    // A node that hangs (or is half started) must fail the probe, not stall start or status.
    connectionTimeoutMillis: 10_000,
    query_timeout: 10_000,
    // Row promises the server's text for every value, whatever the column type.
    types: { getTypeParser: () => (value: string) => value },
  });
  // Failures reject the pending call; without a listener, one arriving between calls (a node
  // shutting down) would be an uncaught 'error' event and end the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    // Several statements in one string (simple query protocol) give one result each.
    const results = [await client.query<Row>(sql)].flat();
    return results.findLast((result) => result.fields.length > 0)?.rows ?? [];
  } finally {
    await client.end();
  }
}

export function url(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

export const COMMON_CONF = `
# ---- edgechat local cluster (scripts/pg/cluster.ts) ----
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
wal_retrieve_retry_interval = '500ms'
max_slot_wal_keep_size = '2GB'
wal_keep_size = '64MB'
shared_buffers = '32MB'
max_connections = 100
password_encryption = 'scram-sha-256'
log_line_prefix = '%m [%p] %q%a '
log_min_messages = warning
timezone = 'UTC'
include_if_exists = 'node.conf'
`;

export function quoteConf(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

export async function writeNodeConf(node: NodeInfo, primaryPort: number): Promise<void> {
  const lines = [
    "# rewritten on every start by scripts/pg/cluster.ts",
    `port = ${node.port}`,
    `unix_socket_directories = ${quoteConf(socketDir(node))}`,
  ];
  if (node.name !== "primary") {
    const conninfo = `host=127.0.0.1 port=${primaryPort} user=${USER} password=${PASSWORD} application_name=${node.name}`;
    lines.push(
      `primary_conninfo = ${quoteConf(conninfo)}`,
      `primary_slot_name = ${quoteConf(node.name)}`,
    );
  }
  const file = join(node.dir, "node.conf");
  await writeFile(file, lines.join("\n") + "\n");
  await ownByPostgres(file);
  const sockets = socketDir(node);
  if (sockets !== node.dir) {
    await mkdir(sockets, { recursive: true, mode: 0o700 });
    await ownByPostgres(sockets);
  }
}

export async function pgCtl(args: string[], dir: string): Promise<Result> {
  const { pg_ctl } = await getBinaries();
  return runAsPostgres(pg_ctl, args, dir);
}

/** Starts one node (no-op if it already runs on the right port) and waits for connections. */
export async function startNodeProcess(
  node: NodeInfo,
  primaryPort: number,
  log: (line: string) => void,
): Promise<void> {
  const current = await readPidFile(node.dir);
  if (current.state === "running") {
    if (current.port === node.port) {
      log(`${node.name}: already running (pid ${current.pid}, port ${node.port})`);
      await waitForConnections(node);
      return;
    }
    log(`${node.name}: running on port ${current.port}, restarting on ${node.port}`);
    await stopNodeProcess(node, log);
  } else if (current.state === "stale") {
    // postgres itself ignores a pid file whose pid is dead, but not one whose pid was reused.
    log(`${node.name}: removing stale postmaster.pid (pid ${current.pid})`);
    await killOrphans(node, log);
    await clearStaleLocks(node);
  }
  await writeNodeConf(node, primaryPort);
  const started = Date.now();
  let result = await pgCtl(
    ["start", "-D", node.dir, "-l", node.log, "-w", "-t", "60", "-s"],
    node.dir,
  );
  if (
    result.code !== 0 &&
    /shared memory block|lock file .* already exists/.test(await tail(node.log, 5))
  ) {
    // Children of a killed postmaster still hold its shared memory: end them and retry once.
    await killOrphans(node, log);
    await clearStaleLocks(node);
    result = await pgCtl(
      ["start", "-D", node.dir, "-l", node.log, "-w", "-t", "60", "-s"],
      node.dir,
    );
  }
  if (result.code !== 0) {
    throw new Error(
      `${node.name} (port ${node.port}) did not start: ${result.stderr.trim() || result.stdout.trim()}\n` +
        `--- ${node.log} ---\n${await tail(node.log)}`,
    );
  }
  await waitForConnections(node);
  log(`${node.name}: started on port ${node.port} in ${Date.now() - started} ms`);
}

export async function waitForConnections(node: NodeInfo): Promise<void> {
  await waitFor(`${node.name} to accept connections`, 30_000, async () => {
    // pg_ctl -w can report success for a postmaster that died at once (e.g. port taken).
    if ((await readPidFile(node.dir)).state !== "running") throw new NodeDied();
    await nodeQuery(node, "SELECT 1");
    return true;
  }).catch(async (error: unknown) => {
    if (!(error instanceof NodeDied)) throw error;
    throw new Error(
      `${node.name} (port ${node.port}) exited during start-up\n--- ${node.log} ---\n${await tail(node.log, 8)}`,
    );
  });
}

/**
 * Removes postmaster.pid and the unix socket lock files of a dead postmaster. postgres removes
 * them itself when their pid is gone, but not when the pid is a zombie (a container whose pid 1
 * does not reap) or was reused by another process.
 */
export async function clearStaleLocks(node: { dir: string; port: number }): Promise<void> {
  await rm(join(node.dir, "postmaster.pid"), { force: true });
  for (const dir of new Set([node.dir, socketDir(node)])) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (entry.startsWith(".s.PGSQL.")) await rm(join(dir, entry), { force: true });
    }
  }
}

/** Kills leftover processes of a node that lost its postmaster (SIGQUIT, then SIGKILL). */
export async function killOrphans(node: NodeInfo, log: (line: string) => void): Promise<void> {
  const pids = processesIn(node.dir);
  if (pids.length === 0) return;
  log(`${node.name}: ending ${pids.length} leftover process(es) ${pids.join(",")}`);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && processesIn(node.dir).length > 0) await sleep(50);
  for (const pid of processesIn(node.dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** `pg_ctl stop -m fast`; falls back to immediate, then to killing what is left. */
export async function stopNodeProcess(node: NodeInfo, log: (line: string) => void): Promise<void> {
  const current = await readPidFile(node.dir);
  if (current.state !== "running") {
    await killOrphans(node, log);
    return;
  }
  const started = Date.now();
  let result = await pgCtl(
    ["stop", "-D", node.dir, "-m", "fast", "-w", "-t", "30", "-s"],
    node.dir,
  );
  if (result.code !== 0 && (await readPidFile(node.dir)).state === "running") {
    log(`${node.name}: fast stop failed (${result.stderr.trim()}), trying immediate`);
    result = await pgCtl(
      ["stop", "-D", node.dir, "-m", "immediate", "-w", "-t", "10", "-s"],
      node.dir,
    );
  }
  // pg_ctl returns once the postmaster is gone; make sure no child is left behind either.
  await waitFor(
    `${node.name} processes to exit`,
    10_000,
    async () => (processesIn(node.dir).length === 0 ? true : undefined),
    50,
  ).catch(() => killOrphans(node, log));
  log(`${node.name}: stopped in ${Date.now() - started} ms`);
}

/** Synchronous best-effort stop, for `process.on("exit")`. */
export function stopNodeSync(pgCtlPath: string, ids: Ids, node: NodeInfo): void {
  if (!existsSync(join(node.dir, "postmaster.pid"))) return;
  const options = { cwd: node.dir, stdio: "ignore" as const, timeout: 20_000, ...(ids ?? {}) };
  const fast = spawnSync(
    pgCtlPath,
    ["stop", "-D", node.dir, "-m", "fast", "-w", "-t", "15", "-s"],
    options,
  );
  if (fast.status !== 0 && existsSync(join(node.dir, "postmaster.pid"))) {
    spawnSync(
      pgCtlPath,
      ["stop", "-D", node.dir, "-m", "immediate", "-w", "-t", "5", "-s"],
      options,
    );
  }
}
