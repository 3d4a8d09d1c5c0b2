import { env, exports } from "cloudflare:workers";
import { ServerFrame, type Session } from "../../src/protocol/index.ts";

/** Calls the real worker entry (the Hono app with its bindings), no server needed. */
export function call(
  path: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  return exports.default.fetch(
    new Request(`http://edgechat.test${path}`, { ...init, headers, body }),
  );
}

export async function guest(name: string): Promise<Session> {
  const res = await call("/api/auth/guest", { method: "POST", json: { name } });
  if (res.status !== 200) throw new Error(`guest sign-in: ${res.status}`);
  return res.json();
}

let rooms = 0;
/** A fresh room created by `owner`; names are unique per test file run. */
export async function newRoom(owner: Session, prefix = "room", shards = 0): Promise<string> {
  rooms += 1;
  const name = `${prefix}-${rooms}-${crypto.randomUUID().slice(0, 8)}`;
  const json = shards > 0 ? { name, shards } : { name };
  const res = await call("/api/rooms", { method: "POST", token: owner.token, json });
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${await res.text()}`);
  return name;
}

export const roomStub = (name: string) => env.ROOM.getByName(name);

/** A server-side WebSocket client inside workerd: collects frames, each checked against the contract. */
export class Client {
  readonly frames: ServerFrame[] = [];
  /** Settles when the server closes the socket, with its code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((settle) =>
      ws.addEventListener("close", (event) => settle({ code: event.code, reason: event.reason })),
    );
    ws.accept();
    ws.addEventListener("message", (message) => {
      const frame = ServerFrame.parse(JSON.parse(String(message.data)));
      this.frames.push(frame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async open(room: string, session: Session, since?: number): Promise<Client> {
    const query = since === undefined ? "" : `?since=${since}`;
    const res = await call(`/api/rooms/${room}/ws${query}`, {
      headers: {
        upgrade: "websocket",
        "sec-websocket-protocol": `edgechat.v1, bearer.${session.token}`,
      },
    });
    if (res.status !== 101 || !res.webSocket)
      throw new Error(`upgrade: ${res.status} ${await res.text()}`);
    const client = new Client(res.webSocket);
    await client.next("welcome");
    return client;
  }

  send(frame: unknown): void {
    this.#ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame of `type` not yet taken (frames are taken in order). */
  async next<T extends ServerFrame["type"]>(
    type: T,
    timeoutMs = 5000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((f) => f.type === type);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Extract<ServerFrame, { type: T }>;
      if (Date.now() > deadline)
        throw new Error(
          `no ${type} frame within ${timeoutMs} ms; have ${JSON.stringify(this.frames)}`,
        );
      await new Promise<void>((wake) => {
        this.#waiters.push(wake);
        setTimeout(wake, 50);
      });
    }
  }

  close(): void {
    this.#ws.close(1000, "bye");
  }
}
