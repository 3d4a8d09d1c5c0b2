import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * `npm test` builds the UI and GraphiQL's page before any test runs; rebuilding here would empty
 * public/ under the other projects' servers. Builds only when a file runs on its own without a
 * build, or with one from before GraphiQL's page (or the dashboard's uPlot and stylesheet) was
 * part of it.
 */
export function ensureWebBuild(): void {
  const built = [
    "public/app.js",
    "public/graphiql/page.json",
    "public/uplot.js",
    "public/admin.css",
  ];
  if (!built.every((file) => existsSync(file))) {
    execFileSync(process.execPath, ["scripts/build-web.mjs"], { stdio: "inherit" });
  }
}

/**
 * The worker project's globalSetup (vitest.config.ts): its ASSETS binding serves public/ as it
 * is on disk, and test/worker/graphql.test.ts reads GraphiQL's page through it.
 */
export default function setup(): void {
  ensureWebBuild();
}
