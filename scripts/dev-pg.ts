// `npm run dev:pg`: the chat backed by a real local PostgreSQL primary with two streaming
// replicas (data kept in .data/pg between runs), the WebSocket proxy that plays Neon's, the
// migrations applied, and `wrangler dev` pointed at all of it. Ctrl-C stops everything.
import { spawn } from "node:child_process";
import { applyMigrations } from "./db-migrate.ts";
import { startDevDatabase } from "./pg/dev.ts";

const db = await startDevDatabase({ fresh: process.argv.includes("--fresh") });
try {
  await applyMigrations(db.vars.DATABASE_URL, db.vars.PG_WS_PROXY);
} catch (error) {
  await db.stop();
  throw error;
}
console.error(
  `[pg] primary ${db.cluster.ports.primary}, replicas ${db.cluster.ports.replicas.join(", ")}, proxy ${db.proxy.address}`,
);

const vars = Object.entries(db.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
const wrangler = spawn(
  "wrangler",
  ["dev", ...vars, ...process.argv.slice(2).filter((a) => a !== "--fresh")],
  {
    stdio: "inherit",
  },
);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  await db.stop();
  process.exit(code);
};
wrangler.on("exit", (code) => void stop(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(signal, () => void stop(0));
