import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type Cluster } from "../../scripts/pg/cluster.ts";
import { startWsProxy } from "../../scripts/pg/ws-proxy.ts";
import { freePort } from "./server.ts";

export type TestCluster = Cluster & {
  /** Port of the WebSocket-to-TCP proxy that plays Neon's. */
  readonly proxyPort: number;
  /** "127.0.0.1:<proxyPort>", what useLocalProxy() / PG_WS_PROXY take. */
  readonly proxyAddress: string;
};

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
  const dataDir = mkdtempSync(join(tmpdir(), "edgechat-pg-"));
  chmodSync(dataDir, 0o755); // mkdtemp makes it 0700; postgres runs as its own user when we are root
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      dataDir,
      fresh: true,
      ports: { primary: await freePort(), replicas: [await freePort(), await freePort()] },
    });
  } catch (error) {
    removeDir();
    throw error;
  }
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
