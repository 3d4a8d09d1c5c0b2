/**
 * The WebSocket-to-TCP proxy (scripts/pg/ws-proxy.ts, the local stand-in for Neon's) in its own
 * process, silent, so that its forwarding does not share the load generator's event loop.
 * Prints `{"address"}` on stdout; exits when stdin closes or on SIGTERM/SIGINT.
 */
import { startWsProxy } from "../../scripts/pg/ws-proxy.ts";

const proxy = await startWsProxy({ port: 0 });
process.stdout.write(JSON.stringify({ address: proxy.address }) + "\n");
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3_000).unref();
  void proxy.close().finally(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();
