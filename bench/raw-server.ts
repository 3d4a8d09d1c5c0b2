/**
 * The ceiling of this machine: a minimal Node `ws` broadcast server that speaks just enough of
 * the edgechat v1 protocol for the SDK's RoomConnection (welcome, post → ack + event, ping → pong).
 * No auth, no storage, no rate limit, no validation beyond JSON.parse.
 *
 * Run as its own process: `node bench/raw-server.ts [--port N]`; prints `{"port": N}` on stdout once
 * listening, and exits when stdin closes or on SIGTERM/SIGINT.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

const SUBPROTOCOL = "edgechat.v1";
const PATH = /^\/api\/rooms\/([a-z0-9][a-z0-9_-]{0,63})\/ws(?:\?.*)?$/;

type Room = { seq: number; sockets: Set<WebSocket> };
const rooms = new Map<string, Room>();
let users = 0;

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;

const http = createServer((_req, res) => {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: "not_found", message: "raw server: WebSocket only" } }));
});

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

http.on("upgrade", (req, socket, head) => {
  const match = PATH.exec(req.url ?? "");
  if (!match) {
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  const name = match[1]!;
  wss.handleUpgrade(req, socket, head, (ws) => join(ws, name));
});

function join(ws: WebSocket, name: string): void {
  let room = rooms.get(name);
  if (!room) {
    room = { seq: 0, sockets: new Set() };
    rooms.set(name, room);
  }
  const r = room;
  r.sockets.add(ws);
  users += 1;
  const you = { id: `raw_${users}`, name: `guest${users}` };
  ws.send(
    JSON.stringify({ type: "welcome", room: name, you, lastSeq: r.seq, online: [], readSeq: 0 }),
  );
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    let frame: { type?: unknown; clientId?: unknown; text?: unknown };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      ws.send(JSON.stringify({ type: "error", code: "bad_request", message: "not JSON" }));
      return;
    }
    if (frame.type === "ping") return ws.send('{"type":"pong"}');
    if (
      frame.type !== "post" ||
      typeof frame.clientId !== "string" ||
      typeof frame.text !== "string"
    ) {
      ws.send(
        JSON.stringify({ type: "error", code: "bad_request", message: "raw server: post only" }),
      );
      return;
    }
    r.seq += 1;
    const seq = r.seq;
    ws.send(JSON.stringify({ type: "ack", clientId: frame.clientId, seq }));
    const event = {
      seq,
      id: randomUUID(),
      type: "message.posted",
      at: Date.now(),
      actor: you,
      data: { text: frame.text },
    };
    const text = JSON.stringify({ type: "event", event });
    for (const other of r.sockets) if (other.readyState === 1) other.send(text);
  });
  ws.on("close", () => r.sockets.delete(ws));
  ws.on("error", () => r.sockets.delete(ws));
}

function shutdown(): void {
  for (const client of wss.clients) client.terminate();
  wss.close();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();

http.listen(port, "127.0.0.1", () => {
  const address = http.address();
  process.stdout.write(
    JSON.stringify({ port: typeof address === "object" && address ? address.port : port }) + "\n",
  );
});
