/**
 * `npm run prometheus`: Debian's Prometheus (/usr/bin/prometheus) scraping the local
 * `npm run dev` worker every 5 s with the scrape token from .dev.vars (METRICS_TOKEN, written
 * by scripts/dev-vars.mjs), its data kept in .data/prometheus (ignored by git) between runs.
 * Prints the UI's address and runs until Ctrl-C.
 *
 * Ports: WORKER_PORT (8787, wrangler dev's), PROMETHEUS_PORT (9090).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startPrometheus } from "../test/support/prometheus.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const workerPort = Number(process.env.WORKER_PORT ?? 8787);
const prometheusPort = Number(process.env.PROMETHEUS_PORT ?? 9090);

/** METRICS_TOKEN from .dev.vars (dotenv syntax: KEY=VALUE lines, optional quotes). */
function metricsToken(): string {
  let vars: string;
  try {
    vars = readFileSync(`${root}.dev.vars`, "utf8");
  } catch {
    throw new Error("no .dev.vars: run `npm run dev` once (it creates one with a METRICS_TOKEN)");
  }
  const line = /^METRICS_TOKEN=(.*)$/m.exec(vars)?.[1]?.trim();
  const token = line?.replace(/^(["'])(.*)\1$/, "$2");
  if (!token) {
    throw new Error(
      "no METRICS_TOKEN in .dev.vars: run `node scripts/dev-vars.mjs` (or `npm run dev`) to add one",
    );
  }
  return token;
}

const storageDir = `${root}.data/prometheus`;
mkdirSync(storageDir, { recursive: true });
const prometheus = await startPrometheus({
  targets: [{ address: `127.0.0.1:${workerPort}`, token: metricsToken() }],
  scrapeIntervalSeconds: 5,
  storageDir,
  listenPort: prometheusPort,
});
const stop = () => void prometheus.stop().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

console.log(`Prometheus: ${prometheus.url} (scraping http://127.0.0.1:${workerPort}/metrics)`);
console.log(`  data: ${storageDir}`);
console.log(`  try: ${prometheus.url}/graph?g0.expr=sum(rate(edgechat_http_requests_total[1m]))`);
console.log("  Ctrl-C stops it.");
try {
  await prometheus.waitForTargetsUp("edgechat", 15_000);
  console.log("the worker's /metrics is up");
} catch {
  const [target] = await prometheus.targets();
  console.warn(
    `the worker's /metrics is not up yet (${target?.lastError || "no scrape yet"}): is \`npm run dev\` running on port ${workerPort}, with the same .dev.vars?`,
  );
}
