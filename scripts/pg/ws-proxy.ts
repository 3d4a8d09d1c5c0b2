/**
 * A local stand-in for Neon's WebSocket proxy: `@neondatabase/serverless` (Pool/Client) opens
 * `ws://<proxy>/v1?address=<host>:<port>` (see src/db/connect.ts, useLocalProxy) and speaks the plain Postgres wire
 * protocol inside binary WebSocket frames; this server opens a TCP connection to that address
 * and pipes bytes both ways, closing both sides together. Only loopback targets are allowed.
 *
 * Non-upgrade requests: GET /health → 200 "ok"; anything else → 426.
 *
 * CLI: node scripts/pg/ws-proxy.ts   (port from PG_PROXY_PORT, default 6543; host PG_PROXY_HOST)
 */
import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket, type RawData } from "ws";

export type WsProxyOptions = {
  /** 0 picks a free port. */
  port: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** One line per connection opened/closed/refused (default: silent). */
  log?: (line: string) => void;
};

export type WsProxy = {
  readonly port: number;
  readonly host: string;
  /** "127.0.0.1:6543", what useLocalProxy() takes. */
  readonly address: string;
  /** Open tunnels right now. */
  connections(): number;
  /** Stops listening and closes every open tunnel (both sides). Idempotent. */
  close(): Promise<void>;
};

const PATHS = new Set(["/v1", "/v2", "/"]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
/** Pause the TCP side while this much is queued towards the browser/worker. */
const HIGH_WATER = 4 * 1024 * 1024;

type Target = { host: string; port: number };

/** Parses `host:port` (or `[v6]:port`) and allows loopback targets only. */
export function parseTarget(address: string | null): Target | string {
  if (!address) return "missing ?address=host:port";
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
  if (!match) return `bad address ${JSON.stringify(address)}`;
  const host = match[1]!;
  const port = Number(match[2]);
  if (!LOOPBACK.has(host.toLowerCase())) return `target ${host} is not allowed (loopback only)`;
  if (port < 1 || port > 65535) return `bad port ${port}`;
  const normalised = host === "localhost" ? "127.0.0.1" : host.replace(/^\[|\]$/g, "");
  return { host: normalised, port };
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? "Forbidden" : status === 404 ? "Not Found" : "Bad Request"}\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Pipes one WebSocket and one TCP socket together until either side ends. */
function tunnel(ws: WebSocket, tcp: Socket, onClose: () => void): void {
  let closed = false;
  const closeBoth = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING)
      ws.close(code, reason.slice(0, 120));
    // Give ws a moment to flush its close frame, then make sure nothing lingers.
    setTimeout(() => ws.terminate(), 1_000).unref();
    tcp.destroy();
    onClose();
  };

  ws.on("message", (data) => {
    if (!tcp.write(toBuffer(data))) {
      ws.pause();
      tcp.once("drain", () => ws.resume());
    }
  });
  ws.on("close", () => closeBoth(1000, "client closed"));
  ws.on("error", () => closeBoth(1011, "websocket error"));

  let paused = false;
  tcp.on("data", (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, () => {
      if (paused && ws.bufferedAmount < HIGH_WATER / 4) {
        paused = false;
        tcp.resume();
      }
    });
    if (!paused && ws.bufferedAmount > HIGH_WATER) {
      paused = true;
      tcp.pause();
    }
  });
  tcp.on("error", (error) => closeBoth(1011, error.message));
  tcp.on("close", () => closeBoth(1000, "database closed the connection"));
}

/**
 * Starts the proxy and resolves once it listens.
 * @example
 * const proxy = await startWsProxy({ port: 6543 });
 * useLocalProxy(proxy.address);
 * await proxy.close();
 */
export async function startWsProxy(options: WsProxyOptions): Promise<WsProxy> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const open = new Set<{ ws: WebSocket; tcp: Socket }>();
  const server = createServer((request, response) => {
    if (request.url === "/health") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    response
      .writeHead(426, { "content-type": "text/plain", upgrade: "websocket" })
      .end("WebSocket proxy for Postgres: connect with ?address=host:port\n");
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://proxy.local");
    if (!PATHS.has(url.pathname)) return refuse(socket, 404, `unknown path ${url.pathname}`);
    const target = parseTarget(url.searchParams.get("address"));
    if (typeof target === "string") {
      log(`refused: ${target}`);
      return refuse(socket, target.includes("not allowed") ? 403 : 400, target);
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const tcp = connect({ host: target.host, port: target.port });
      tcp.setNoDelay(true);
      const entry = { ws, tcp };
      open.add(entry);
      log(`open ${target.host}:${target.port} (${open.size} open)`);
      tunnel(ws, tcp, () => {
        if (open.delete(entry)) log(`closed ${target.host}:${target.port} (${open.size} open)`);
      });
    });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    connections: () => open.size,
    close() {
      closing ??= (async () => {
        for (const { ws, tcp } of open) {
          ws.terminate();
          tcp.destroy();
        }
        open.clear();
        await new Promise<void>((resolvePromise) => wss.close(() => resolvePromise()));
        server.closeAllConnections();
        await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      })();
      return closing;
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number.parseInt(process.env.PG_PROXY_PORT ?? "6543", 10);
  const proxy = await startWsProxy({
    port,
    host: process.env.PG_PROXY_HOST ?? "127.0.0.1",
    log: (line) => console.error(`[ws-proxy] ${line}`),
  });
  console.log(`PG_PROXY=${proxy.address}`);
  console.error(`[ws-proxy] listening on ws://${proxy.address}/v1?address=127.0.0.1:<pg port>`);
  const shutdown = () => void proxy.close().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
