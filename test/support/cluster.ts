import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neonConfig } from "@neondatabase/serverless";
import WebSocket from "ws";
import { applyMigrations } from "../../scripts/db-migrate.ts";
import { startCluster, type Cluster } from "../../scripts/pg/cluster.ts";
import { startWsProxy } from "../../scripts/pg/ws-proxy.ts";
import { useLocalProxy } from "../../src/db/connect.ts";
import { freePort } from "./server.ts";

export type TestCluster = Cluster & {
  /** Port of the WebSocket-to-TCP proxy that plays Neon's. */
  readonly proxyPort: number;
  /** "127.0.0.1:<proxyPort>", what useLocalProxy() / PG_WS_PROXY take. */
  readonly proxyAddress: string;
};

/**
 * A fresh cluster in a new temp folder on free ports; `removeDir` deletes the folder once the
 * cluster is stopped. Nothing is left behind if the start fails.
 */
export async function startTemporaryCluster(
  prefix: string,
  log?: (line: string) => void,
): Promise<{ cluster: Cluster; removeDir: () => void }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dataDir, 0o755); // mkdtemp makes it 0700; postgres runs as its own user when we are root
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const ports = { primary: await freePort(), replicas: [await freePort(), await freePort()] };
    return {
      cluster: await startCluster({ dataDir, fresh: true, ports, ...(log ? { log } : {}) }),
      removeDir,
    };
  } catch (error) {
    removeDir();
    throw error;
  }
}

/**
 * A fresh primary + two streaming replicas in a temp folder on free ports, plus the WebSocket
 * proxy on a free port. `stop()` stops the proxy and every node and removes the folder; calling it
 * again is a no-op. If the test process dies first, the cluster's exit hook still stops the nodes.
 * @example
 * const cluster = await startTestCluster();
 * useLocalProxy(cluster.proxyAddress);
 * const pool = new Pool({ connectionString: cluster.primaryUrl });
 * await cluster.stop();
 */
export async function startTestCluster(): Promise<TestCluster> {
  const { cluster, removeDir } = await startTemporaryCluster("edgechat-pg-");
  let proxy: Awaited<ReturnType<typeof startWsProxy>>;
  try {
    proxy = await startWsProxy({ port: await freePort() });
  } catch (error) {
    await cluster.stop();
    removeDir();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...cluster,
    proxyPort: proxy.port,
    proxyAddress: proxy.address,
    stop() {
      stopping ??= (async () => {
        try {
          await proxy.close();
          await cluster.stop();
        } finally {
          removeDir();
        }
      })();
      return stopping;
    },
  };
}

/**
 * A test cluster with the migrations applied, and Neon's driver in this process pointed at
 * its proxy, so that tests can query the nodes with `withDb` as the worker does.
 */
export async function startMigratedCluster(): Promise<TestCluster> {
  neonConfig.webSocketConstructor ??=
    WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  const cluster = await startTestCluster();
  try {
    useLocalProxy(cluster.proxyAddress);
    await applyMigrations(cluster.primaryUrl, cluster.proxyAddress);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** The worker's configuration for a database on `cluster`, for `startServer({ vars })`. */
export function databaseVars(
  cluster: { primaryUrl: string; replicaUrls: string[]; proxyAddress: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: cluster.primaryUrl,
    DATABASE_REPLICA_URLS: cluster.replicaUrls.join(","),
    PG_WS_PROXY: cluster.proxyAddress,
    ...extra,
  };
}
