import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema.ts";

export type Db = NeonDatabase<typeof schema>;

/**
 * Points Neon's driver at a local WebSocket-to-TCP proxy (scripts/pg/ws-proxy.ts) instead of
 * Neon's own, for a plain local Postgres: no TLS inside the socket, no pipelining tricks.
 * Without `proxy` (production on Neon) the driver's defaults stay. Same code path either way.
 * Node without a global WebSocket must also set `neonConfig.webSocketConstructor` (e.g. to `ws`).
 */
export function useLocalProxy(proxy: string | undefined): void {
  if (!proxy) return;
  const where = proxy.replace(/^(wss?|https?):\/\//, "").replace(/\/+$/, "");
  neonConfig.wsProxy = (host, port) => `${where}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineTLS = false;
  // The local cluster authenticates with SCRAM, which cannot be pipelined.
  neonConfig.pipelineConnect = false;
}

/**
 * A short-lived pool for one request or one flush: a Workers isolate may not keep a socket
 * between requests, and an idle socket would keep a Durable Object from hibernating.
 */
export async function withDb<T>(url: string, run: (db: Db) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 });
  pool.on("error", () => undefined); // a dropped idle connection is not worth a crash
  try {
    return await run(drizzle({ client: pool, schema }));
  } finally {
    await pool.end().catch(() => undefined);
  }
}
