/**
 * The two kinds of load-generator client, behind one interface so that every scenario drives
 * them the same way:
 *
 * - `sdk`: the SDK's RoomConnection, which offers edgechat.v1.batch (a turn's acks and events in
 *   one frame), sends `received` reports and resends commands refused as `overloaded`.
 * - `raw`: an SDK-less client as the project's outside testers write one: a `ws` socket offering
 *   only plain `edgechat.v1` (one frame per event), a `post` frame per message, no resend.
 * - `graphql`: a `roomEvents` subscriber on the room's GraphQL socket, posting through a plain
 *   chat socket of its own (edgechat only: the raw server speaks no GraphQL).
 * - `rpc`: a `HistoryService.WatchRoom` stream over Connect binary to the worker's `/rpc` (or
 *   over gRPC through the gateway), posting through a plain chat socket of its own (edgechat
 *   only).
 *
 * All use the `ws` package (rpc: its poster) without permessage-deflate, drop an event whose seq they have seen
 * (a duplicate) and count one that does not follow the previous seq (out of order), exactly
 * like the SDK's own `anomalies`.
 */
import { toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient as createRpcClient,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { WebSocket as WsSocket } from "ws";
import { CommandError, RoomConnection, SUBPROTOCOL, BEARER_PREFIX } from "../src/client/index.ts";
import {
  HistoryService,
  WatchRoomResponseSchema,
  type WatchRoomResponse,
} from "../src/rpc/gen/edgechat/v1/history_pb.js";
import { RPC_PREFIX } from "../src/rpc/prefix.ts";

export type ClientKind = "sdk" | "raw" | "graphql" | "rpc";
export const CLIENT_KINDS: readonly ClientKind[] = ["sdk", "raw", "graphql", "rpc"];
/** What `--client both` means: the SDK and the plain socket, as before the other kinds. */
export const BOTH: readonly ClientKind[] = ["sdk", "raw"];
/** The kinds the raw server can serve (it speaks the chat protocol only). */
export const servedByRaw = (kind: ClientKind) => kind === "sdk" || kind === "raw";

/**
 * Where `rpc` clients watch: Connect binary over HTTP/1.1 to the worker's `/rpc`, or plain gRPC
 * over HTTP/2 to the gateway (`npm run grpc-gateway`) at `url`.
 */
export type RpcRoute = { via: "worker" } | { via: "gateway"; url: string };

/** What clients report to the load generator, which does all the bookkeeping. */
export type ClientHooks = {
  /** An event delivered once, in the order received; `text` for `message.posted` only. */
  event(client: BenchClient, seq: number, text: string | undefined): void;
  /** An error frame that answers no pending command. */
  unmatchedError(code: string): void;
  /** The server closed the socket (the SDK then reconnects and resumes; a raw client does not). */
  closed(code: number): void;
  /**
   * One WebSocket message of `bytes` arrived (a batch counts once): what the server paid a send
   * for. `event`: it was a plain `event` frame (raw clients only; an sdk batch mixes frames).
   */
  frame(bytes: number, event?: boolean): void;
  log(line: string): void;
};

/** How one post ended, as the client saw it. */
export type PostHandlers = {
  acked(seq: number): void;
  refused(code: string): void;
  /**
   * Pushed back by the room (sdk only): refused as `overloaded` and kept by the SDK, which sends
   * it again later, or posted while the SDK holds commands back after such a refusal.
   */
  overloaded(): void;
  /** Its frame was written to the socket (again, after a push-back or a reconnect). */
  written(): void;
};

export type ClientSpec = {
  index: number;
  room: number;
  /** Whether the load generator will post through it (the first `senders` of its room). */
  sender: boolean;
  roomName: string;
  baseUrl: string;
  token: string;
  hooks: ClientHooks;
  /** `rpc` clients: where they watch (the worker when unset). */
  rpc?: RpcRoute;
};

export interface BenchClient {
  readonly index: number;
  readonly room: number;
  /** The highest seq seen (the welcome's lastSeq at first). */
  readonly lastSeq: number;
  readonly anomalies: { readonly duplicates: number; readonly outOfOrder: number };
  /** Opens the socket; resolves at the welcome. */
  connect(): Promise<void>;
  post(text: string, on: PostHandlers): void;
  close(): void;
}

export function createClient(kind: ClientKind, spec: ClientSpec): BenchClient {
  switch (kind) {
    case "sdk":
      return new SdkClient(spec);
    case "raw":
      return new WireClient(spec);
    case "graphql":
      return new GraphqlClient(spec);
    case "rpc":
      return new RpcClient(spec);
  }
}

const wsUrl = (baseUrl: string, room: string) => {
  const url = new URL(`/api/rooms/${encodeURIComponent(room)}/ws`, baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
};

/** Seq bookkeeping shared by both kinds: false for a duplicate, which is not delivered. */
class SeqCursor {
  lastSeq = -1;
  readonly anomalies = { duplicates: 0, outOfOrder: 0 };
  advance(seq: number): boolean {
    if (seq <= this.lastSeq) {
      this.anomalies.duplicates += 1;
      return false;
    }
    if (this.lastSeq >= 0 && seq !== this.lastSeq + 1) this.anomalies.outOfOrder += 1;
    this.lastSeq = seq;
    return true;
  }
}

class SdkClient implements BenchClient {
  readonly index: number;
  readonly room: number;
  readonly #conn: RoomConnection;
  readonly #pending = new Map<string, PostHandlers>();
  readonly #hooks: ClientHooks;
  #closing = false;
  /** Until when the SDK holds commands back after an `overloaded` (Date.now() time). */
  #holdUntil = 0;

  constructor(spec: ClientSpec) {
    this.index = spec.index;
    this.room = spec.room;
    this.#hooks = spec.hooks;
    const client = this;
    // ws without permessage-deflate; reports the server's close codes, which the SDK keeps to itself.
    class BenchSocket extends WsSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { perMessageDeflate: false });
        this.on("close", (code) => !client.#closing && client.#hooks.closed(code));
        this.on("message", (data: Buffer) => client.#hooks.frame(data.length));
      }

      override send(data: string): void {
        const clientId = /"clientId":"([^"]+)"/.exec(data)?.[1];
        if (clientId) client.#pending.get(clientId)?.written();
        super.send(data);
      }
    }
    this.#conn = new RoomConnection({
      baseUrl: spec.baseUrl,
      room: spec.roomName,
      token: spec.token,
      WebSocket: BenchSocket as unknown as typeof WebSocket,
      heartbeatMs: 60_000,
    });
    this.#conn.on("event", (e) =>
      spec.hooks.event(this, e.seq, e.type === "message.posted" ? e.data.text : undefined),
    );
    this.#conn.on("error", (f) => spec.hooks.unmatchedError(f.code));
    this.#conn.on("fatal", (f) => spec.hooks.log(`  client ${this.index}: fatal ${f.code}`));
    this.#conn.on("overloaded", ({ clientId, retryAfterMs }) => {
      this.#holdUntil = Math.max(this.#holdUntil, Date.now() + retryAfterMs);
      this.#pending.get(clientId)?.overloaded();
    });
  }

  get lastSeq(): number {
    return this.#conn.lastSeq;
  }

  get anomalies() {
    return this.#conn.anomalies;
  }

  connect(): Promise<void> {
    const welcomed = new Promise<void>((resolve) => {
      const off = this.#conn.on("welcome", () => (off(), resolve()));
    });
    this.#conn.connect();
    return welcomed;
  }

  post(text: string, on: PostHandlers): void {
    const clientId = this.#conn.nextClientId();
    this.#pending.set(clientId, on);
    // The SDK holds what is posted while the room's overloaded wait lasts: pushed back too.
    if (Date.now() < this.#holdUntil) on.overloaded();
    this.#conn.post(text, { clientId }).then(
      (seq) => (this.#pending.delete(clientId), on.acked(seq)),
      (error: unknown) => {
        this.#pending.delete(clientId);
        if (!this.#closing) on.refused(error instanceof CommandError ? error.code : "error");
      },
    );
  }

  close(): void {
    this.#closing = true;
    this.#conn.close();
  }
}

type WireFrame = {
  type?: string;
  lastSeq?: number;
  event?: { seq: number; type: string; data?: { text?: string } };
  clientId?: string;
  seq?: number;
  code?: string;
  frames?: WireFrame[];
};

/** A plain edgechat.v1 client: one JSON frame per event, no SDK, no resend, no reconnect. */
class WireClient implements BenchClient {
  readonly index: number;
  readonly room: number;
  readonly #spec: ClientSpec;
  readonly #cursor = new SeqCursor();
  readonly #pending = new Map<string, PostHandlers>();
  #socket: WsSocket | undefined;
  #counter = 0;
  #closing = false;

  constructor(spec: ClientSpec) {
    this.index = spec.index;
    this.room = spec.room;
    this.#spec = spec;
  }

  get lastSeq(): number {
    return this.#cursor.lastSeq;
  }

  get anomalies() {
    return this.#cursor.anomalies;
  }

  connect(): Promise<void> {
    const { baseUrl, roomName, token, hooks } = this.#spec;
    const socket = new WsSocket(wsUrl(baseUrl, roomName), [SUBPROTOCOL, BEARER_PREFIX + token], {
      perMessageDeflate: false,
    });
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      socket.on("message", (data: Buffer, isBinary) => {
        if (isBinary) return hooks.frame(data.length);
        const frame = JSON.parse(data.toString()) as WireFrame;
        hooks.frame(data.length, frame.type === "event");
        if (frame.type === "welcome") {
          this.#cursor.lastSeq = frame.lastSeq ?? 0;
          resolve();
        } else this.#frame(frame);
      });
      socket.on("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
      );
      socket.on("error", (error) => reject(error));
      socket.on("close", (code) => {
        reject(new Error(`closed before the welcome (${code})`));
        if (!this.#closing) hooks.closed(code);
      });
    });
  }

  #frame(frame: WireFrame): void {
    switch (frame.type) {
      case "event": {
        const { seq, type, data } = frame.event!;
        if (this.#cursor.advance(seq))
          this.#spec.hooks.event(this, seq, type === "message.posted" ? data?.text : undefined);
        return;
      }
      case "ack":
        this.#settle(frame.clientId, (on) => on.acked(frame.seq!));
        return;
      case "error":
        if (!this.#settle(frame.clientId, (on) => on.refused(frame.code ?? "error")))
          this.#spec.hooks.unmatchedError(frame.code ?? "error");
        return;
      case "batch":
        for (const inner of frame.frames ?? []) this.#frame(inner);
        return;
    }
  }

  /** Answers the post with this clientId; false when there is none pending. */
  #settle(clientId: string | undefined, answer: (on: PostHandlers) => void): boolean {
    const on = clientId === undefined ? undefined : this.#pending.get(clientId);
    if (!on) return false;
    this.#pending.delete(clientId!);
    answer(on);
    return true;
  }

  post(text: string, on: PostHandlers): void {
    this.#counter += 1;
    const clientId = `w${this.index}-${this.#counter}`;
    this.#pending.set(clientId, on);
    if (this.#socket?.readyState !== WsSocket.OPEN) return;
    on.written();
    this.#socket.send(JSON.stringify({ type: "post", clientId, text }));
  }

  close(): void {
    this.#closing = true;
    this.#socket?.close(1000, "bye");
  }
}

const EVENTS = `subscription($r: String!, $s: Int) { roomEvents(room: $r, since: $s) { seq type data } }`;

type GraphqlMessage = {
  type: string;
  payload?: {
    data?: { roomEvents?: { seq: number; type: string; data?: { text?: string } } };
    errors?: { extensions?: { code?: string } }[];
  };
};

/**
 * What the `graphql` and `rpc` clients share: they read the room from a stream of their own,
 * starting at the last event already in the log (replayed by `since`, which tells that the
 * stream is live), are not online, and a sender posts through a plain chat socket of its own,
 * whose events it ignores, so that a run compares the ways out with the same way in.
 */
abstract class Subscriber implements BenchClient {
  readonly index: number;
  readonly room: number;
  protected readonly spec: ClientSpec;
  protected closing = false;
  readonly #cursor = new SeqCursor();
  readonly #poster: WireClient | undefined;
  #live: { resolve(): void; reject(error: unknown): void } | undefined;

  constructor(spec: ClientSpec) {
    this.index = spec.index;
    this.room = spec.room;
    this.spec = spec;
    const quiet = { ...spec.hooks, event: () => {}, frame: () => {} };
    this.#poster = spec.sender ? new WireClient({ ...spec, hooks: quiet }) : undefined;
  }

  get lastSeq(): number {
    return this.#cursor.lastSeq;
  }

  get anomalies() {
    return this.#cursor.anomalies;
  }

  /** Resolves once the stream is live (its first event) and a sender's chat socket is open. */
  async connect(): Promise<void> {
    const { baseUrl, roomName, token } = this.spec;
    const info = await fetch(new URL(`/api/rooms/${encodeURIComponent(roomName)}`, baseUrl), {
      headers: { authorization: `Bearer ${token}` },
    });
    const { lastSeq } = (await info.json()) as { lastSeq: number };
    const live = new Promise<void>((resolve, reject) => (this.#live = { resolve, reject }));
    this.open(lastSeq - 1);
    await Promise.all([live, this.#poster?.connect()]);
  }

  /** Opens the stream after `since`: its events go to `received`, its end to `ended`. */
  protected abstract open(since: number): void;
  protected abstract stop(): void;

  /** The stream failed or ended: before it was live, connect() fails; after, the run hears of it. */
  protected ended(error: Error, code: number | string): void {
    this.#live?.reject(error);
    if (this.closing || this.#cursor.lastSeq < 0) return;
    this.spec.hooks.log(`  client ${this.index}: stream ended: ${error.message}`);
    this.spec.hooks.closed(code as number);
  }

  /** An event from the stream: the first one makes it live, the others are delivered once. */
  protected received(seq: number, type: string, text: unknown): void {
    if (this.#cursor.lastSeq < 0) {
      this.#cursor.lastSeq = seq;
      return this.#live?.resolve();
    }
    if (this.#cursor.advance(seq))
      this.spec.hooks.event(
        this,
        seq,
        type === "message.posted" && typeof text === "string" ? text : undefined,
      );
  }

  post(text: string, on: PostHandlers): void {
    if (!this.#poster) throw new Error(`client ${this.index} is not a sender`);
    this.#poster.post(text, on);
  }

  close(): void {
    this.closing = true;
    this.stop();
    this.#poster?.close();
  }
}

/**
 * A GraphQL subscriber as docs/graphql.md describes one, without a GraphQL library: `roomEvents`
 * on the room's graphql-transport-ws socket (signed in by connection_init). It reads and is not
 * online. A sender posts through a plain chat socket of its own, whose events it ignores, so that
 * the run compares the fan-out of the two kinds of socket, not HTTP mutations with socket frames
 * (200 GraphQL requests a second through `wrangler dev` are a load of their own: bench:graphql).
 */
class GraphqlClient extends Subscriber {
  #socket: WsSocket | undefined;

  protected open(since: number): void {
    const { baseUrl, roomName, token, hooks } = this.spec;
    const url = wsUrl(baseUrl, roomName).replace(/\/ws$/, "/graphql");
    const socket = new WsSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    this.#socket = socket;
    socket.on("open", () =>
      socket.send(
        JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }),
      ),
    );
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as GraphqlMessage;
      hooks.frame(data.length, message.type === "next");
      if (message.type === "connection_ack") {
        const payload = { query: EVENTS, variables: { r: roomName, s: since } };
        socket.send(JSON.stringify({ id: "events", type: "subscribe", payload }));
      } else if (message.type === "next") {
        const event = message.payload?.data?.roomEvents;
        if (!event)
          return hooks.unmatchedError(message.payload?.errors?.[0]?.extensions?.code ?? "error");
        this.received(event.seq, event.type, event.data?.text);
      } else if (message.type === "error") hooks.unmatchedError("subscribe");
    });
    socket.on("unexpected-response", (_req, res) =>
      this.ended(new Error(`upgrade refused: HTTP ${res.statusCode}`), res.statusCode ?? 0),
    );
    // A close always follows; listened to so that the emitter does not throw it.
    socket.on("error", () => {});
    socket.on("close", (code) => this.ended(new Error(`closed (${code})`), code));
  }

  protected stop(): void {
    this.#socket?.close(1000, "bye");
  }
}

/**
 * What the stream carried for an event: the message as protobuf encodes it, in its 5-byte
 * envelope. Encoded once per room and seq (every receiver gets the same message), so that measuring it
 * costs the load generator next to nothing.
 */
const encodedSizes = new Map<string, number>();
function streamedBytes(room: number, seq: number, message: WatchRoomResponse): number {
  const key = `${room}:${seq}`;
  let bytes = encodedSizes.get(key);
  if (bytes === undefined) {
    if (encodedSizes.size > 10_000) encodedSizes.clear();
    bytes = toBinary(WatchRoomResponseSchema, message).length + 5;
    encodedSizes.set(key, bytes);
  }
  return bytes;
}

/** A transport for an `rpc` client: each client its own, as each watcher is a service of its own. */
function rpcTransport(baseUrl: string, route: RpcRoute | undefined): Transport {
  return route?.via === "gateway"
    ? createGrpcTransport({ baseUrl: route.url })
    : createConnectTransport({
        baseUrl: `${baseUrl}${RPC_PREFIX}`,
        httpVersion: "1.1",
        useBinaryFormat: true,
      });
}

/**
 * A back-end service watching the room as docs/rpc.md describes: `HistoryService.WatchRoom`
 * with exact resume (`since`), one stream message per event, through connect-node's Connect
 * transport to the worker or its gRPC transport to the gateway. It reads and is not online.
 * A sender posts through a plain chat socket of its own, whose events it ignores, so that
 * `--client raw,rpc` compares the fan-out of the two ways out with the same way in.
 */
class RpcClient extends Subscriber {
  readonly #abort = new AbortController();

  protected open(since: number): void {
    const { baseUrl, roomName, token, hooks } = this.spec;
    const history = createRpcClient(HistoryService, rpcTransport(baseUrl, this.spec.rpc));
    const stream = history.watchRoom(
      { room: roomName, since: BigInt(since) },
      { headers: { authorization: `Bearer ${token}` }, signal: this.#abort.signal },
    );
    const read = async () => {
      for await (const message of stream) {
        const event = message.event;
        if (!event) continue;
        const seq = Number(event.seq);
        hooks.frame(streamedBytes(this.room, seq, message), true);
        this.received(seq, event.type, event.data?.text);
      }
      throw new ConnectError("the server ended the stream", Code.Unavailable);
    };
    read().catch((thrown: unknown) => {
      const error = ConnectError.from(thrown);
      this.ended(error, error.code);
    });
  }

  protected stop(): void {
    this.#abort.abort();
  }
}
