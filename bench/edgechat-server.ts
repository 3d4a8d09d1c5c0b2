/**
 * The real edgechat worker in its own process, so that wrangler/miniflare's Node side does not
 * share the load generator's event loop (the raw server runs in its own process too).
 *
 * `node bench/edgechat-server.ts` (from the repo root): starts the worker with
 * test/support/server.ts → wrangler `unstable_startWorker` (wrangler's dev proxy in front of
 * workerd, as `wrangler dev` users get), prints `{"url", "port"}` on stdout, and disposes the
 * worker and its storage when stdin closes or on SIGTERM/SIGINT.
 */
import { startServer } from "../test/support/server.ts";

process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
const server = await startServer();
process.stdout.write(JSON.stringify({ url: server.url, port: server.port }) + "\n");

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
