import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import { RoomConnection, type RoomEvent } from "../../src/client/index.ts";

/** A scripted WebSocket server on 127.0.0.1: each test decides what the "server" says. */
async function scripted(onConnection: (socket: ServerSocket, count: number) => void) {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: () => "edgechat.v1",
  });
  const connectedAt: number[] = [];
  server.on("connection", (socket) => {
    connectedAt.push(performance.now());
    onConnection(socket, connectedAt.length);
  });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    connections: () => connectedAt.length,
    /** When each connection arrived (performance.now()), oldest first. */
    connectedAt,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Generous bounds for polls: a loaded machine must not fail them, a broken SDK still does. */
const POLL = { timeout: 15_000, interval: 10 };

const welcome = (lastSeq: number) =>
  JSON.stringify({
    type: "welcome",
    room: "r",
    you: { id: "g_a", name: "ada" },
    lastSeq,
    online: [],
  });
const event = (seq: number, type: string, data: object) =>
  JSON.stringify({
    type: "event",
    event: { seq, id: `e${seq}`, type, at: 1, actor: { id: "g_b", name: "bob" }, data },
  });

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); // clients first, then servers
});

describe("the SDK against a scripted server", () => {
  it("skips event types it does not know without losing count of seqs", async () => {
    const server = await scripted((socket) => {
      socket.send(welcome(0));
      socket.send(event(1, "message.posted", { text: "one" }));
      socket.send(event(2, "poll.created", { question: "lunch?" }));
      socket.send(event(3, "message.posted", { text: "three" }));
    });
    cleanups.push(server.close);
    const connection = new RoomConnection({ baseUrl: server.baseUrl, room: "r", token: "t" });
    cleanups.push(() => connection.close());
    const seen: RoomEvent[] = [];
    connection.on("event", (e) => seen.push(e));
    connection.connect();
    await expect.poll(() => connection.lastSeq, POLL).toBe(3);
    expect(seen.map((e) => e.seq)).toEqual([1, 3]);
    expect(connection.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  });

  it("backs off from a server that accepts and closes at once, instead of looping", async () => {
    // The jitter's draw pinned to the middle, so each delay is known: half its ceiling,
    // 100 ms doubling per attempt. The sockets, the timers and the server are real.
    const random = vi.spyOn(Math, "random").mockReturnValue(0.5);
    cleanups.push(() => random.mockRestore());
    const server = await scripted((socket) => {
      socket.send(welcome(0));
      socket.close(4429, "too many frames");
    });
    cleanups.push(server.close);
    const connection = new RoomConnection({
      baseUrl: server.baseUrl,
      room: "r",
      token: "t",
      backoff: { baseMs: 100, maxMs: 10_000 },
    });
    cleanups.push(() => connection.close());
    connection.connect();
    await expect.poll(() => server.connections(), POLL).toBeGreaterThanOrEqual(5);
    // Each wait at least as long as its delay (50, 100, 200, 400 ms): a welcome followed at once by
    // a close must not reset the backoff, or every wait would be the first one (50 ms).
    const gaps = server.connectedAt.slice(1, 5).map((at, i) => at - server.connectedAt[i]!);
    gaps.forEach((gap, attempt) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** attempt - 1));
  });

  it("sends a read marker asked for while disconnected after the next welcome", async () => {
    const reads: unknown[] = [];
    const server = await scripted((socket) => {
      socket.on("message", (data) => reads.push(JSON.parse(String(data))));
      socket.send(welcome(9));
    });
    cleanups.push(server.close);
    const connection = new RoomConnection({ baseUrl: server.baseUrl, room: "r", token: "t" });
    cleanups.push(() => connection.close());
    connection.read(5);
    connection.read(7);
    connection.connect();
    await expect.poll(() => reads, POLL).toEqual([{ type: "read", seq: 7 }]);
  });
});
