/**
 * Unary PostMessage latency, one client posting one message at a time over each way in:
 *
 * - the native WebSocket: a `post` frame on a plain edgechat.v1 chat socket, until its `ack`;
 * - REST: `POST /api/rooms/{room}/messages` with the SDK's `EdgechatApi` (fetch, keep-alive;
 *   it validates the answer with zod);
 * - RPC: `MessageService.PostMessage` over Connect binary (HTTP/1.1, keep-alive) to the worker's
 *   `/rpc`, connect-node's transport as a back-end service makes it;
 * - gRPC: the same call over plain gRPC (HTTP/2) to the gateway (`npm run grpc-gateway`, its own
 *   process), which forwards it over Connect binary to the worker.
 *
 * Each way posts as a guest of its own (one command budget each, docs/limits.md) into one public
 * room. A round posts once each way, the order rotated by one every round; posts start at most
 * every `gapMs`, so that no way goes past the per-connection 20 commands a second and every
 * post finds the room idle (a post waits for the one before it in any case).
 */
import { randomBytes } from "node:crypto";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { WebSocket } from "ws";
import { BEARER_PREFIX, EdgechatApi, SUBPROTOCOL } from "../../src/client/index.ts";
import { MessageService } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { RPC_PREFIX } from "../../src/rpc/prefix.ts";
import { now, percentiles, sleep, withTimeout, type Percentiles } from "../util.ts";

export type PostWay = {
  name: string;
  label: string;
  /** Posts one message; resolves with its seq once the server answered. */
  post(clientId: string, text: string): Promise<number>;
  close(): void;
};

const POST_TIMEOUT_MS = 10_000;

type Frame = { type?: string; clientId?: string; seq?: number; code?: string; message?: string };

/** A plain edgechat.v1 chat socket that posts and waits for each post's ack. */
async function socketWay(baseUrl: string, room: string, token: string): Promise<PostWay> {
  const url = new URL(`/api/rooms/${encodeURIComponent(room)}/ws`, baseUrl);
  url.protocol = "ws:";
  const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + token], {
    perMessageDeflate: false,
  });
  const pending = new Map<string, { resolve(seq: number): void; reject(e: Error): void }>();
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type === "welcome") return resolve();
        const waiting = frame.clientId === undefined ? undefined : pending.get(frame.clientId);
        if (!waiting) return;
        pending.delete(frame.clientId!);
        if (frame.type === "ack") waiting.resolve(frame.seq!);
        else if (frame.type === "error")
          waiting.reject(new Error(`socket: ${frame.code}: ${frame.message}`));
      });
      socket.on("error", reject);
      socket.on("close", (code) => {
        reject(new Error(`the chat socket closed (${code})`));
        for (const [, waiting] of pending) waiting.reject(new Error(`socket closed (${code})`));
      });
    }),
    30_000,
    "the chat socket's welcome",
  );
  return {
    name: "ws",
    label: "WebSocket `post` → `ack`",
    post: (clientId, text) =>
      new Promise<number>((resolve, reject) => {
        pending.set(clientId, { resolve, reject });
        socket.send(JSON.stringify({ type: "post", clientId, text }));
      }),
    close: () => socket.close(1000, "bye"),
  };
}

function restWay(baseUrl: string, room: string, token: string): PostWay {
  const api = new EdgechatApi(baseUrl, token);
  return {
    name: "rest",
    label: "REST `POST …/messages`",
    post: async (clientId, text) => (await api.postMessage(room, { clientId, text })).seq,
    close: () => {},
  };
}

function rpcWay(
  name: string,
  label: string,
  transport: Transport,
  room: string,
  token: string,
): PostWay {
  const client = createClient(MessageService, transport);
  const headers = { authorization: `Bearer ${token}` };
  return {
    name,
    label,
    post: async (clientId, text) =>
      Number((await client.postMessage({ room, clientId, text }, { headers })).seq),
    close: () => {},
  };
}

/** The four ways, each signed in as its own guest; the room must exist and be public. */
export async function postWays(
  baseUrl: string,
  gatewayUrl: string,
  room: string,
): Promise<PostWay[]> {
  const api = new EdgechatApi(baseUrl);
  const token = async (way: string) =>
    (await api.signInGuest(`${way}-${randomBytes(2).toString("hex")}`)).token;
  const connect = createConnectTransport({
    baseUrl: `${baseUrl}${RPC_PREFIX}`,
    httpVersion: "1.1",
    useBinaryFormat: true,
  });
  const grpc = createGrpcTransport({ baseUrl: gatewayUrl });
  return [
    await socketWay(baseUrl, room, await token("ws")),
    restWay(baseUrl, room, await token("rest")),
    rpcWay("rpc", "RPC Connect binary → worker", connect, room, await token("rpc")),
    rpcWay("grpc", "gRPC (HTTP/2) → gateway → worker", grpc, room, await token("grpc")),
  ];
}

export type PostLatencyOptions = { warmup: number; iterations: number; gapMs: number };

export type PostLatency = {
  latencyMs: Record<string, Percentiles>;
  /** Every answered post's seq, per way: all distinct, or a post was not what it seemed. */
  posted: number;
  distinctSeqs: number;
  seconds: number;
};

/** `warmup` rounds uncounted, then `iterations` rounds; one post per way a round, rotated. */
export async function measurePosts(
  ways: PostWay[],
  options: PostLatencyOptions,
  log: (line: string) => void,
): Promise<PostLatency> {
  const samples = new Map(ways.map((w) => [w.name, [] as number[]]));
  const seqs = new Set<number>();
  let posted = 0;
  const started = now();
  let next = now();
  const rounds = options.warmup + options.iterations;
  for (let round = 0; round < rounds; round++) {
    if (round === options.warmup)
      log(`  posts: warm-up done, measuring ${options.iterations} rounds`);
    for (let k = 0; k < ways.length; k++) {
      const way = ways[(round + k) % ways.length]!;
      const wait = next - now();
      if (wait > 0) await sleep(wait);
      const clientId = `${way.name}-${round}`;
      const sent = now();
      next = sent + options.gapMs;
      const seq = await withTimeout(
        way.post(clientId, `${way.name} post ${round}`),
        POST_TIMEOUT_MS,
        `${way.name}'s post ${round}`,
      );
      const ms = now() - sent;
      posted++;
      seqs.add(seq);
      if (round >= options.warmup) samples.get(way.name)!.push(ms);
    }
  }
  return {
    latencyMs: Object.fromEntries([...samples].map(([name, v]) => [name, percentiles(v)])),
    posted,
    distinctSeqs: seqs.size,
    seconds: (now() - started) / 1000,
  };
}
