/**
 * The real edgechat worker in its own process, so that wrangler/miniflare's Node side does not
 * share the load generator's event loop (the raw server runs in its own process too).
 *
 * `node bench/edgechat-server.ts` (from the repo root): starts the worker with
 * test/support/server.ts → wrangler `unstable_startWorker` (wrangler's dev proxy in front of
 * workerd, as `wrangler dev` users get), prints `{"url", "port"}` on stdout, and disposes the
 * worker and its storage when stdin closes or on SIGTERM/SIGINT.
 */
import { readFileSync } from "node:fs";
import { startServer } from "../test/support/server.ts";
import { descendants, listeningPorts } from "./servers.ts";

process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
const server = await startServer();

/**
 * With --direct: the entry port of the workerd that runs the user worker, i.e. behind wrangler's
 * dev proxy (a second workerd whose ProxyWorker re-fetches every request to it). Found from /proc:
 * the workerd descendant that does not listen on the public port.
 */
function directUrl(): string | undefined {
  for (const pid of descendants(process.pid)) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmd.includes("workerd") || cmd.includes(`entry=127.0.0.1:${server.port}`)) continue;
    const m = /entry=127\.0\.0\.1:(\d+)/.exec(cmd);
    const ports = listeningPorts(pid);
    const port = m && m[1] !== "0" ? Number(m[1]) : ports[0];
    if (port) return `http://127.0.0.1:${port}`;
  }
  return undefined;
}

/** The user worker's workerd starts after the proxy is ready: ask the proxy once, then poll /proc. */
async function findDirect(): Promise<string | undefined> {
  await fetch(`${server.url}/healthz`).catch(() => undefined);
  for (let i = 0; i < 100; i++) {
    const url = directUrl();
    if (url) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const direct = process.argv.includes("--direct") ? await findDirect() : undefined;
if (process.argv.includes("--direct") && !direct)
  console.error("edgechat-server: --direct: no user workerd port found");
process.stdout.write(
  JSON.stringify({ url: server.url, port: server.port, ...(direct ? { directUrl: direct } : {}) }) +
    "\n",
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 10_000).unref();
  try {
    await server.dispose();
  } finally {
    process.exit(0);
  }
}

process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
process.stdin.on("end", () => void shutdown());
process.stdin.on("close", () => void shutdown());
process.stdin.resume();
