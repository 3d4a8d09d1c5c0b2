/**
 * Draft of the Postgres half of `dev:pg`: starts the local cluster (.data/pg, ports from
 * PG_PRIMARY_PORT / PG_REPLICA_PORTS) and the WebSocket proxy (PG_PROXY_PORT, default 6543),
 * prints the variables the worker needs, and keeps running until Ctrl-C / SIGTERM, when it stops
 * the proxy and every node.
 *
 * node scripts/pg/dev.ts [--fresh]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DATA_DIR, startCluster, type Cluster } from "./cluster.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

export type DevDatabase = {
  cluster: Cluster;
  proxy: WsProxy;
  /** DATABASE_URL, DATABASE_REPLICA_URLS and PG_WS_PROXY for .dev.vars / wrangler --var. */
  vars: Record<"DATABASE_URL" | "DATABASE_REPLICA_URLS" | "PG_WS_PROXY", string>;
  stop(): Promise<void>;
};

export async function startDevDatabase(
  options: { fresh?: boolean; log?: (line: string) => void } = {},
): Promise<DevDatabase> {
  const log = options.log ?? ((line: string) => console.error(`[pg] ${line}`));
  const primary = Number.parseInt(process.env.PG_PRIMARY_PORT ?? "5433", 10);
  const replicas = (process.env.PG_REPLICA_PORTS ?? "5434,5435")
    .split(",")
    .map((port) => Number.parseInt(port, 10));
  const cluster = await startCluster({
    dataDir: process.env.PG_DATA_DIR ?? DEFAULT_DATA_DIR,
    ports: { primary, replicas },
    fresh: options.fresh ?? false,
    log,
  });
  let proxy: WsProxy;
  try {
    proxy = await startWsProxy({
      port: Number.parseInt(process.env.PG_PROXY_PORT ?? "6543", 10),
      log: (line) => log(`proxy: ${line}`),
    });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    cluster,
    proxy,
    vars: {
      DATABASE_URL: cluster.primaryUrl,
      DATABASE_REPLICA_URLS: cluster.replicaUrls.join(","),
      PG_WS_PROXY: proxy.address,
    },
    stop() {
      stopping ??= (async () => {
        await proxy.close();
        await cluster.stop();
      })();
      return stopping;
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const db = await startDevDatabase({ fresh: process.argv.includes("--fresh") });
  for (const [name, value] of Object.entries(db.vars)) console.log(`${name}=${value}`);
  console.error(`[pg] ready in ${Date.now() - started} ms; Ctrl-C stops the cluster and the proxy`);
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    console.error(`[pg] ${signal}: stopping`);
    db.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGHUP", shutdown);
}
