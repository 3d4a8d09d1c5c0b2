/**
 * End-to-end proof of the local Postgres setup: a fresh primary + two streaming replicas in a temp
 * folder, the WebSocket proxy, and `@neondatabase/serverless` Pools going through the proxy.
 * Prints a timing for every step; exits non-zero on the first failure.
 *
 * node scripts/pg/smoke.ts
 */
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neonConfig, Pool } from "@neondatabase/serverless";
import { WebSocket } from "ws";
import { startCluster, type Cluster } from "./cluster.ts";
import { useLocalProxy } from "../../src/db/connect.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";
import { freePort } from "../../test/support/server.ts";

const t0 = Date.now();
let last = t0;
function step(label: string): void {
  const now = Date.now();
  console.log(
    `${String(now - last).padStart(6)} ms  (${String(now - t0).padStart(6)} ms)  ${label}`,
  );
  last = now;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`FAILED: ${message}`);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`FAILED: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rowsIn(pool: Pool, note: string): Promise<string[]> {
  const result = await pool.query<{ note: string }>("SELECT note FROM smoke WHERE note = $1", [
    note,
  ]);
  return result.rows.map((row) => row.note);
}

const dataDir = mkdtempSync(join(tmpdir(), "edgechat-pg-smoke-"));
chmodSync(dataDir, 0o755); // mkdtemp makes it 0700: the postgres user must get in
let cluster: Cluster | undefined;
let proxy: WsProxy | undefined;
const pools: Pool[] = [];

try {
  const ports = { primary: await freePort(), replicas: [await freePort(), await freePort()] };
  cluster = await startCluster({
    dataDir,
    ports,
    fresh: true,
    log: (line) => console.log(`          ${line}`),
  });
  step(
    `cluster up: ${cluster.primaryUrl} + ${cluster.replicaUrls.length} replicas (data ${dataDir})`,
  );

  proxy = await startWsProxy({ port: 0 });
  neonConfig.webSocketConstructor = WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  useLocalProxy(proxy.address);
  step(`ws proxy on ${proxy.address}`);

  const primary = new Pool({ connectionString: cluster.primaryUrl, max: 2 });
  const [replica1, replica2] = cluster.replicaUrls.map(
    (url) => new Pool({ connectionString: url, max: 2 }),
  ) as [Pool, Pool];
  pools.push(primary, replica1, replica2);
  // Idle pooled connections get "terminating connection due to administrator command" when a
  // node stops; a Pool without an error listener would crash the process on it.
  for (const pool of pools)
    pool.on("error", (error: Error) =>
      console.log(`          (pool, idle client: ${error.message})`),
    );

  const version = await primary.query<{ v: string; recovery: boolean }>(
    "SELECT version() AS v, pg_is_in_recovery() AS recovery",
  );
  check(version.rows[0]?.recovery === false, "primary is not in recovery");
  step(`neon Pool → proxy → primary: ${version.rows[0]?.v.split(",")[0]}`);
  for (const [name, pool] of [
    ["replica1", replica1],
    ["replica2", replica2],
  ] as const) {
    const result = await pool.query<{ recovery: boolean }>(
      "SELECT pg_is_in_recovery() AS recovery",
    );
    check(result.rows[0]?.recovery === true, `${name} is in recovery`);
  }
  step("both replicas answer through the proxy and are in recovery");

  await primary.query(
    "CREATE TABLE smoke (id serial PRIMARY KEY, note text NOT NULL, at timestamptz DEFAULT now())",
  );
  await primary.query("INSERT INTO smoke (note) VALUES ($1)", ["first"]);
  step("created table and inserted on the primary");

  for (const [name, pool] of [
    ["replica1", replica1],
    ["replica2", replica2],
  ] as const) {
    const started = Date.now();
    await waitFor(`'first' on ${name}`, async () =>
      (await rowsIn(pool, "first").catch(() => [])).length === 1 ? true : undefined,
    );
    console.log(`          ${name}: row visible after ${Date.now() - started} ms`);
  }
  step("row replicated to both replicas");

  await replica1.query("SELECT pg_wal_replay_pause()");
  await waitFor("replay paused on replica1", async () => {
    const result = await replica1.query<{ state: string }>(
      "SELECT pg_get_wal_replay_pause_state() AS state",
    );
    return result.rows[0]?.state === "paused" ? true : undefined;
  });
  await primary.query("INSERT INTO smoke (note) VALUES ($1)", ["while-paused"]);
  await waitFor("'while-paused' on replica2", async () =>
    (await rowsIn(replica2, "while-paused")).length === 1 ? true : undefined,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  check(
    (await rowsIn(replica1, "while-paused")).length === 0,
    "paused replica1 must not see the new row",
  );
  step("replay paused on replica1: new row on replica2, not on replica1");

  await replica1.query("SELECT pg_wal_replay_resume()");
  await waitFor("'while-paused' on replica1 after resume", async () =>
    (await rowsIn(replica1, "while-paused")).length === 1 ? true : undefined,
  );
  step("replay resumed: replica1 caught up");

  await cluster.stopNode("replica1");
  const failed = await replica1.query("SELECT 1").then(
    () => false,
    () => true,
  );
  check(failed, "stopped replica1 must not answer");
  await primary.query("INSERT INTO smoke (note) VALUES ($1)", ["replica1-down"]);
  await waitFor("'replica1-down' on replica2", async () =>
    (await rowsIn(replica2, "replica1-down")).length === 1 ? true : undefined,
  );
  step("replica1 stopped: replica2 still answers and replicates");

  await cluster.startNode("replica1");
  await waitFor("'replica1-down' on restarted replica1", async () =>
    (await rowsIn(replica1, "replica1-down").catch(() => [])).length === 1 ? true : undefined,
  );
  step("replica1 restarted and caught up through its slot");

  await cluster.stopNode("primary");
  const primaryDown = await primary.query("SELECT 1").then(
    () => false,
    () => true,
  );
  check(primaryDown, "stopped primary must not answer");
  check(
    (await rowsIn(replica2, "first")).length === 1,
    "replicas keep serving reads while the primary is down",
  );
  step("primary stopped: replicas still serve reads");

  await cluster.startNode("primary");
  await primary.query("INSERT INTO smoke (note) VALUES ($1)", ["after-restart"]);
  for (const pool of [replica1, replica2]) {
    await waitFor("'after-restart' on replicas", async () =>
      (await rowsIn(pool, "after-restart").catch(() => [])).length === 1 ? true : undefined,
    );
  }
  const count = await primary.query<{ n: string }>("SELECT count(*) AS n FROM smoke");
  check(count.rows[0]?.n === "4", `4 rows on the primary (got ${count.rows[0]?.n})`);
  step("primary restarted: writes work and stream to both replicas again");

  await Promise.all(pools.map((pool) => pool.end()));
  pools.length = 0;
  await proxy.close();
  await cluster.stop();
  step("stopped everything");
  console.log(`PASS in ${Date.now() - t0} ms`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  await proxy?.close();
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
