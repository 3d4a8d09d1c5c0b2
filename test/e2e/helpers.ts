/**
 * Helpers of the end-to-end suite: real server, real sockets. Every frame a server sends to any
 * socket opened through these helpers is checked against the contract's `ServerFrame` schema;
 * `assertNoInvalidFrames()` (called after each test by `useServer`) fails the test on any violation.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll } from "vitest";
import WS from "ws";
import { EdgechatApi, RoomConnection, type ConnectionOptions } from "../../src/client/index.ts";
import {
  ApiError,
  ServerFrame,
  SUBPROTOCOL,
  BEARER_PREFIX,
  type RoomEvent,
  type ServerFrameOf,
  type Session,
} from "../../src/protocol/index.ts";

import { startProxy, type NetworkProxy } from "../support/proxy.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";

export { startServer, type NetworkProxy, type TestServer };

// ---------------------------------------------------------------- frame validation

type Invalid = { where: string; data: string; issue: string };
const invalidFrames: Invalid[] = [];

/** Parses and validates one server frame; records a violation instead of throwing (listeners must not throw). */
export function checkFrame(where: string, data: unknown): ServerFrame | undefined {
  if (typeof data !== "string") {
    invalidFrames.push({ where, data: String(data), issue: "binary frame from the server" });
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    invalidFrames.push({ where, data: data.slice(0, 200), issue: "not JSON" });
    return undefined;
  }
  const parsed = ServerFrame.safeParse(json);
  if (!parsed.success) {
    invalidFrames.push({
      where,
      data: data.slice(0, 200),
      issue: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
    return undefined;
  }
  return parsed.data;
}

export function assertNoInvalidFrames(): void {
  if (invalidFrames.length === 0) return;
  const found = invalidFrames.splice(0);
  throw new Error(
    `server sent ${found.length} frame(s) that fail ServerFrame: ${JSON.stringify(found.slice(0, 5))}`,
  );
}

/** A frame as its parts: a batch frame's frames in order, any other frame alone. */
export const unbatched = (frame: ServerFrame): ServerFrame[] =>
  frame.type === "batch" ? frame.frames : [frame];

/**
 * The global WebSocket, plus a validator on every incoming frame. Registered in the constructor,
 * so it runs before the SDK's own listener; `frames` keeps every parsed frame of this socket.
 */
export class CheckedWebSocket extends WebSocket {
  /** Every frame as the client reads it: a batch frame's frames one by one, in order. */
  readonly frames: ServerFrame[] = [];
  /** How many WebSocket messages carried them (fewer than `frames` when batches came). */
  messages = 0;

  /** How it closed, once it did: 1006 (and not clean) when the connection broke without a close frame. */
  closed: { code: number; wasClean: boolean } | undefined;
  constructor(url: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
    super(url, protocols);
    this.addEventListener("message", (message) => {
      const frame = checkFrame(`sdk ${String(url)}`, message.data);
      this.messages += 1;
      if (frame) this.frames.push(...unbatched(frame));
    });
    this.addEventListener("close", ({ code, wasClean }) => (this.closed = { code, wasClean }));
  }
}

// ---------------------------------------------------------------- waiting

/** Polls `check` until it returns a truthy value; fails after `timeoutMs` with `what`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what = "condition",
  timeoutMs = 15_000,
  everyMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

// ---------------------------------------------------------------- names, users, rooms

let counter = 0;
/** A room name unique to this process and run. */
export function roomName(prefix = "r"): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(4).toString("hex")}`;
}

export type Guest = Session & { api: EdgechatApi };

export async function guest(baseUrl: string, name = "user"): Promise<Guest> {
  const session = await new EdgechatApi(baseUrl).signInGuest(name);
  return { ...session, api: new EdgechatApi(baseUrl, session.token) };
}

/** Creates a fresh room owned by `owner`; returns its name. */
export async function freshRoom(owner: Guest, prefix = "r"): Promise<string> {
  const name = roomName(prefix);
  await owner.api.createRoom({ name });
  return name;
}

// ---------------------------------------------------------------- SDK clients

/** A RoomConnection with everything it emits recorded. */
export class Client {
  readonly conn: RoomConnection;
  readonly events: RoomEvent[] = [];
  readonly statuses: string[] = [];
  readonly welcomes: ServerFrameOf<"welcome">[] = [];
  readonly gaps: ServerFrameOf<"gap">[] = [];
  readonly presence: ServerFrameOf<"presence">[] = [];
  readonly typing: { id: string; name: string }[] = [];
  readonly errors: ServerFrameOf<"error">[] = [];
  readonly fatals: { code: string; message: string }[] = [];
  /** The seqs of events that did not link to the hash this client had before them. */
  readonly chainBroken: number[] = [];
  /** Every socket this client opened, oldest first, with the frames each received. */
  readonly sockets: CheckedWebSocket[] = [];

  constructor(options: Omit<ConnectionOptions, "WebSocket">) {
    const sockets = this.sockets;
    const Socket = class extends CheckedWebSocket {
      constructor(url: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
    this.conn = new RoomConnection({
      backoff: { baseMs: 50, maxMs: 500 },
      ...options,
      WebSocket: Socket,
    });
    this.conn.on("event", (e) => this.events.push(e));
    this.conn.on("status", (s) => this.statuses.push(s));
    this.conn.on("welcome", (w) => this.welcomes.push(w));
    this.conn.on("gap", (g) => this.gaps.push(g));
    this.conn.on("presence", (p) => this.presence.push(p));
    this.conn.on("typing", (u) => this.typing.push(u));
    this.conn.on("error", (e) => this.errors.push(e));
    this.conn.on("fatal", (f) => this.fatals.push(f));
    this.conn.on("chainBroken", ({ seq }) => this.chainBroken.push(seq));
  }

  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }

  messages(): RoomEvent[] {
    return this.events.filter((e) => e.type === "message.posted");
  }

  /** Resolves once `n` welcomes in total arrived (the first one by default). */
  async welcomed(n = 1): Promise<ServerFrameOf<"welcome">> {
    await waitUntil(() => this.welcomes.length >= n, `welcome #${n}`);
    return this.welcomes[n - 1]!;
  }

  async untilSeq(seq: number, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      () => this.conn.lastSeq >= seq,
      `lastSeq >= ${seq} (at ${this.conn.lastSeq})`,
      timeoutMs,
    );
  }

  close(): void {
    this.conn.close();
  }
}

const openClients: Client[] = [];

/** Opens an SDK connection and waits for its welcome. */
export async function connect(
  baseUrl: string,
  room: string,
  who: Guest,
  options: Partial<ConnectionOptions> = {},
): Promise<Client> {
  const client = new Client({ baseUrl, room, token: who.token, ...options });
  openClients.push(client);
  client.conn.connect();
  await client.welcomed();
  return client;
}

/** Opens a client without waiting for anything (for refusals). */
export function connectLater(
  baseUrl: string,
  room: string,
  token: string,
  options: Partial<ConnectionOptions> = {},
): Client {
  const client = new Client({ baseUrl, room, token, ...options });
  openClients.push(client);
  client.conn.connect();
  return client;
}

// ---------------------------------------------------------------- raw sockets (ws)

export function wsUrl(baseUrl: string, room: string, since?: number): string {
  const url = new URL(`/api/rooms/${room}/ws`, baseUrl);
  url.protocol = "ws:";
  if (since !== undefined) url.searchParams.set("since", String(since));
  return url.toString();
}

/** A raw `ws` socket with every frame validated and kept (a batch frame's frames one by one). */
export class RawClient {
  readonly ws: WS;
  readonly frames: ServerFrame[] = [];
  /** Every WebSocket message as it came, batch frames whole. */
  readonly messages: ServerFrame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | undefined;

  constructor(url: string, protocols: string[] | undefined, headers: Record<string, string> = {}) {
    this.ws = new WS(url, protocols, { headers });
    this.ws.on("error", () => undefined); // surfaced through `opened`/`closed`
    this.ws.on("message", (data, isBinary) => {
      const frame = checkFrame(`raw ${url}`, isBinary ? data : data.toString("utf8"));
      if (!frame) return;
      this.messages.push(frame);
      this.frames.push(...unbatched(frame));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) =>
      this.ws.once("close", (code, reason) => {
        this.closeCode = code;
        resolve({ code, reason: reason.toString() });
      }),
    );
    openRaw.push(this);
  }

  of<T extends ServerFrame["type"]>(type: T): ServerFrameOf<T>[] {
    return this.frames.filter((f) => f.type === type) as ServerFrameOf<T>[];
  }

  get isOpen(): boolean {
    return this.ws.readyState === WS.OPEN;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  sendJson(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Waits until `n` frames of `type` arrived; returns the n-th. */
  async nth<T extends ServerFrame["type"]>(
    type: T,
    n: number,
    timeoutMs = 15_000,
  ): Promise<ServerFrameOf<T>> {
    await waitUntil(
      () => this.of(type).length >= n,
      `${n} ${type} frame(s) (have ${this.of(type).length})`,
      timeoutMs,
    );
    return this.of(type)[n - 1]!;
  }

  /** A ping round trip: every frame sent before it has been handled once the pong is in. */
  async roundTrip(): Promise<void> {
    const before = this.of("pong").length;
    this.sendJson({ type: "ping" });
    await this.nth("pong", before + 1);
  }
}

const openRaw: RawClient[] = [];

/** A raw client authenticated the browser way (subprotocol), welcomed. */
export async function rawConnect(
  baseUrl: string,
  room: string,
  token: string,
  since?: number,
  protocol = SUBPROTOCOL,
): Promise<RawClient> {
  const raw = new RawClient(wsUrl(baseUrl, room, since), [protocol, BEARER_PREFIX + token]);
  await raw.opened;
  await raw.nth("welcome", 1);
  return raw;
}

/**
 * Tries an upgrade and reports how it ended: the HTTP status and body of a refusal, or the
 * selected subprotocol of a success (the socket is closed right away).
 */
export function tryUpgrade(
  url: string,
  protocols: string[] | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; protocol?: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WS(url, protocols, { headers });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          headers: res.headers,
        }),
      );
      res.on("error", reject);
    });
    ws.once("upgrade", (res) => {
      ws.once("open", () => {
        resolve({ status: 101, body: "", protocol: ws.protocol, headers: res.headers });
        ws.close(1000);
      });
    });
    ws.on("error", (error) => {
      // ws emits error after unexpected-response only when nobody handles the response; ignore then.
      if (!String(error.message).includes("Unexpected server response")) reject(error);
    });
  });
}

// ---------------------------------------------------------------- the network between

const openProxies: NetworkProxy[] = [];

/**
 * A network path to `server` that can fail: connect clients to its `url`, then `cut()` breaks
 * their TCP connections without a close frame (see test/support/proxy.ts). Closed by `closeAll`.
 */
export async function flakyNetwork(server: TestServer): Promise<NetworkProxy> {
  const proxy = await startProxy(server.url);
  openProxies.push(proxy);
  return proxy;
}

// ---------------------------------------------------------------- cleanup

/** Closes every socket the helpers opened, and their proxies (call in afterEach). */
export async function closeAll(): Promise<void> {
  for (const client of openClients.splice(0)) client.close();
  await Promise.all(openProxies.splice(0).map((proxy) => proxy.close()));
  const raws = openRaw.splice(0);
  for (const raw of raws) {
    if (raw.ws.readyState === WS.OPEN || raw.ws.readyState === WS.CONNECTING) raw.ws.terminate();
  }
}

/** Sorted-ness and contiguity of seqs: [from, from+1, ..., to]. */
export function isContiguous(seqs: number[], from?: number): boolean {
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) return false;
  return from === undefined || seqs.length === 0 || seqs[0] === from;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

// ---------------------------------------------------------------- pacing

/** For pacing a sender only; waiting for something to happen is `waitUntil`'s job. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts `texts` through `conn`, paced under the per-connection command limit (20/s, burst 40):
 * `first` at once, then `per` at a time, each batch `everyMs` after the previous one was acked.
 * Pacing from the acks rather than from the clock keeps it under the limit however late the
 * server gets to a batch on a loaded machine. Resolves with the acked seqs, in send order.
 */
export async function pacedPosts(
  conn: RoomConnection,
  texts: string[],
  { first = 30, per = 15, everyMs = 1000 }: { first?: number; per?: number; everyMs?: number } = {},
): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0, batch = first; i < texts.length; i += batch, batch = per) {
    if (i > 0) await sleep(everyMs);
    seqs.push(...(await Promise.all(texts.slice(i, i + batch).map((text) => conn.post(text)))));
  }
  return seqs;
}

/**
 * One post over HTTP, sent again with the same clientId (so applied once) after the server's
 * Retry-After for as long as the room answers `overloaded`, as a well-behaved client does.
 */
export async function postPolitely(
  who: Guest,
  room: string,
  body: { text: string; clientId: string },
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await who.api.postMessage(room, body)).seq;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "overloaded") || attempt >= 50) throw error;
      await sleep((error.retryAfter ?? 1) * 1000);
    }
  }
}

/** Posts over HTTP (no per-connection limit) with `parallel` requests in flight; returns the seqs. */
export async function httpPosts(
  who: Guest,
  room: string,
  count: number,
  prefix = "h",
  parallel = 16,
): Promise<number[]> {
  const seqs: number[] = new Array(count);
  let next = 0;
  const tag = randomBytes(3).toString("hex");
  const worker = async () => {
    while (next < count) {
      const i = next++;
      seqs[i] = await postPolitely(who, room, {
        text: `${prefix}${i}`,
        clientId: `${prefix}-${tag}-${i}`,
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return seqs;
}

// ---------------------------------------------------------------- per-file setup

/**
 * One real server per test file, started before its tests and stopped after them, and the
 * checks every e2e test ends with: its sockets closed, every frame it received valid.
 * `ready` receives the server (to sign in the file's users); `options` go to `startServer`
 * (e.g. `vars` for configuration).
 * @example
 * let server: TestServer;
 * let ada: Guest;
 * useServer(async (started) => {
 *   server = started;
 *   [ada] = await signIn(server, "ada");
 * });
 */
export function useServer(
  ready: (server: TestServer) => Promise<void> | void,
  options: Parameters<typeof startServer>[0] = {},
): void {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer(options);
    await ready(server);
  });
  afterAll(async () => server?.dispose());
  afterEach(async () => {
    await closeAll();
    assertNoInvalidFrames();
  });
}

/**
 * Call at the top of an e2e file (before useServer, so that it closes after the worker): a
 * webhook receiver on this machine, started before the file's tests and closed after them.
 * The answer stands for it; using it before the tests start is an error.
 */
export function useReceiver(): Omit<Receiver, "close"> {
  let started: Receiver | undefined;
  const running = () => {
    if (!started) throw new Error("useReceiver: the receiver is not started yet");
    return started;
  };
  beforeAll(async () => {
    started = await startReceiver();
  });
  afterAll(async () => started?.close());
  return {
    get received() {
      return running().received;
    },
    url: (path) => running().url(path),
    answer: (path, answer) => running().answer(path, answer),
    at: (path) => running().at(path),
  };
}

/** Guests signed in at once, one per name. */
export function signIn<const N extends readonly string[]>(
  server: TestServer,
  ...names: N
): Promise<{ [K in keyof N]: Guest }> {
  return Promise.all(names.map((name) => guest(server.url, name))) as Promise<{
    [K in keyof N]: Guest;
  }>;
}
