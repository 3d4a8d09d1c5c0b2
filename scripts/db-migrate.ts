// Applies the drizzle-kit migrations in migrations/ to a Postgres primary, through the same
// driver as the worker (Neon's, over WebSocket; locally through scripts/pg/ws-proxy.ts).
//   node scripts/db-migrate.ts            uses DATABASE_URL and PG_WS_PROXY from the environment
import { neonConfig } from "@neondatabase/serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { useLocalProxy, withDb } from "../src/db/connect.ts";

const MIGRATIONS = fileURLToPath(new URL("../migrations/", import.meta.url));

/** Applies every migration not yet applied (drizzle keeps the list in its own table). */
export async function applyMigrations(
  databaseUrl: string,
  proxy: string | undefined,
): Promise<void> {
  neonConfig.webSocketConstructor ??=
    WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  useLocalProxy(proxy);
  await withDb(databaseUrl, (db) => migrate(db, { migrationsFolder: MIGRATIONS }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("DATABASE_URL is not set");
    process.exit(2);
  }
  await applyMigrations(url, process.env.PG_WS_PROXY);
  console.log("migrations applied");
}
