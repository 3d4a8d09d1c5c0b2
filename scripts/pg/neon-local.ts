/**
 * Points `@neondatabase/serverless` at the local WebSocket proxy (scripts/pg/ws-proxy.ts) instead
 * of Neon's: plain `ws://`, no TLS inside the tunnel, no pipelined connect (the local cluster
 * authenticates with SCRAM, which cannot be pipelined). Safe to import from the worker: it imports
 * nothing node-only; in Node without a global WebSocket, pass `ws`'s constructor.
 *
 * neonConfig is global to the driver module, so this affects every Pool/Client created afterwards.
 */
import { neonConfig, type WebSocketConstructor } from "@neondatabase/serverless";

export type NeonLocalOptions = {
  /**
   * A WebSocket constructor, e.g. `(await import("ws")).WebSocket`; default: globalThis.WebSocket
   * (Node 22+, workerd, browsers). Typed loosely because ws's class is not the DOM's.
   */
  webSocketConstructor?: unknown;
};

/**
 * @param proxyHostPort where the proxy listens, e.g. "127.0.0.1:6543" (no scheme).
 * @example
 * configureNeonLocal("127.0.0.1:6543");
 * const pool = new Pool({ connectionString: "postgres://postgres:postgres@127.0.0.1:5433/edgechat" });
 */
export function configureNeonLocal(proxyHostPort: string, options: NeonLocalOptions = {}): void {
  const proxy = proxyHostPort.replace(/^(wss?|https?):\/\//, "").replace(/\/+$/, "");
  neonConfig.wsProxy = (host: string, port: number | string) => `${proxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  if (options.webSocketConstructor !== undefined) {
    neonConfig.webSocketConstructor = options.webSocketConstructor as WebSocketConstructor;
  } else if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined") {
    throw new Error("configureNeonLocal: no global WebSocket here; pass { webSocketConstructor } (e.g. ws's WebSocket)");
  }
}
