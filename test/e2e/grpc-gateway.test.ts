/**
 * The gRPC gateway (src/gateway/) in front of the real worker (wrangler dev), as a service that
 * speaks plain gRPC over HTTP/2 reaches it: @grpc/grpc-js (with the generated messages for its
 * codec) and connect-node's gRPC transport. Two upstreams: the worker itself and a relay to it
 * that can fail (test/support/proxy.ts), so that losing one of them mid-stream is a real loss of
 * the network path while the rooms stay the same.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { startGateway, type Gateway } from "../../src/gateway/server.ts";
import {
  ConverseService,
  type ConverseResponse,
} from "../../src/rpc/gen/edgechat/v1/converse_pb.js";
import {
  HistoryService,
  WatchRoomRequestSchema,
  WatchRoomResponseSchema,
} from "../../src/rpc/gen/edgechat/v1/history_pb.js";
import {
  MessageService,
  PostMessageRequestSchema,
  PostMessageResponseSchema,
} from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { RoomService } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import { EchoService } from "../../src/rpc/gen/edgechat/test/v1/echo_pb.js";
import { startProxy, type NetworkProxy } from "../support/proxy.ts";
import { range, roomName, useServer, waitUntil, type TestServer } from "./helpers.ts";

let server: TestServer;
let relay: NetworkProxy;
let gateway: Gateway;
let token: string;
useServer(
  async (started) => {
    server = started;
    token = (await new EdgechatApi(server.url).signInGuest("gateway")).token;
  },
  { vars: { RPC_ECHO: "true" } },
);
beforeAll(async () => {
  relay = await startProxy(server.url);
  // Health checks far apart: the tests decide when an upstream is found down.
  gateway = await startGateway({
    upstreams: [server.url, relay.url],
    healthEveryMs: 60_000,
    // The worker's services, and its test fixture, which answers with the trace context it got.
    forwarded: [RoomService, MessageService, EchoService],
  });
});
afterAll(async () => {
  await gateway?.close();
  await relay?.close();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const grpcTransport = () => createGrpcTransport({ baseUrl: gateway.url });
const rooms = () => createClient(RoomService, grpcTransport());
const messages = () => createClient(MessageService, grpcTransport());

async function freshRoom(): Promise<string> {
  const name = roomName("gw");
  await rooms().createRoom({ name }, { headers: auth() });
  return name;
}

/** A plain gRPC client (grpc-js) with the generated messages as its codec. */
function grpcJs() {
  const client = new grpc.Client(
    gateway.url.replace("http://", ""),
    grpc.credentials.createInsecure(),
  );
  const codec = <D extends DescMessage>(schema: D) => ({
    serialize: (message: MessageShape<D>) => Buffer.from(toBinary(schema, message)),
    deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
  });
  const metadata = () => {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${token}`);
    return m;
  };
  return { client, codec, metadata };
}

describe("plain gRPC through the gateway", () => {
  it("grpc-js: a unary PostMessage and a WatchRoom stream, and a refusal with its status and the contract's code", async () => {
    const room = await freshRoom();
    const { client, codec, metadata } = grpcJs();
    const post = codec(PostMessageRequestSchema);
    const posted = codec(PostMessageResponseSchema);
    const call = (text: string, to = room) =>
      new Promise<{ seq: bigint }>((resolve, reject) =>
        client.makeUnaryRequest(
          "/edgechat.v1.MessageService/PostMessage",
          post.serialize,
          posted.deserialize,
          create(PostMessageRequestSchema, { room: to, clientId: text, text }),
          metadata(),
          (error, answer) => (error ? reject(error) : resolve(answer!)),
        ),
      );
    const first = await call("one");
    const stream = client.makeServerStreamRequest(
      "/edgechat.v1.HistoryService/WatchRoom",
      codec(WatchRoomRequestSchema).serialize,
      codec(WatchRoomResponseSchema).deserialize,
      create(WatchRoomRequestSchema, { room, since: first.seq - 1n }),
      metadata(),
    );
    const seen: bigint[] = [];
    stream.on("data", (message: { event?: { seq: bigint } }) => seen.push(message.event!.seq));
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    const second = await call("two");
    await waitUntil(() => seen.length === 2, "two events");
    expect(seen).toEqual([first.seq, second.seq]);
    stream.cancel();
    expect((await ended).code).toBe(grpc.status.CANCELLED);

    const missing = await call("x", roomName("none")).catch((error: grpc.ServiceError) => error);
    expect(missing).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such room" });
    expect((missing as grpc.ServiceError).metadata.get("edgechat-error-code")).toEqual([
      "not_found",
    ]);
    client.close();
  });

  it("Converse: commands in, the room's events and each command's outcome out, on one bidirectional stream", async () => {
    const room = await freshRoom();
    const outbox: Parameters<
      ReturnType<typeof createClient<typeof ConverseService>>["converse"]
    >[0] extends AsyncIterable<infer T>
      ? T[]
      : never = [];
    let more: (() => void) | undefined;
    let open = true;
    async function* requests() {
      for (;;) {
        while (outbox.length > 0) yield outbox.shift()!;
        if (!open) return;
        await new Promise<void>((wake) => (more = wake));
      }
    }
    const send = (request: (typeof outbox)[number]) => {
      outbox.push(request);
      more?.();
    };
    const client = createClient(ConverseService, grpcTransport());
    const received: ConverseResponse[] = [];
    const conversation = (async () => {
      for await (const response of client.converse(requests(), { headers: auth() }))
        received.push(response);
    })();
    send({ kind: { case: "watch", value: { room, since: 2n } } });
    send({ kind: { case: "postMessage", value: { room, clientId: "c1", text: "hello" } } });
    send({
      kind: { case: "editMessage", value: { room, clientId: "c2", messageId: 999n, text: "no" } },
    });
    await waitUntil(
      () =>
        received.some((r) => r.kind.case === "event") &&
        received.filter((r) => r.kind.case !== "event").length === 2,
      "an event and two outcomes",
    );
    const result = received.find((r) => r.kind.case === "result")!.kind.value as {
      clientId: string;
      seq: bigint;
    };
    const refusal = received.find((r) => r.kind.case === "error")!.kind.value as {
      clientId: string;
      code: string;
    };
    const event = received.find((r) => r.kind.case === "event")!.kind.value as {
      seq: bigint;
      type: string;
    };
    expect(result.clientId).toBe("c1");
    expect(event).toMatchObject({ seq: result.seq, type: "message.posted" });
    expect(refusal).toMatchObject({ clientId: "c2", code: "not_found" });
    open = false;
    more?.();
    await conversation;
  });
});

describe("the gateway's interceptors", () => {
  it("carries the caller's trace on as a child span, ends a call at its deadline, and counts calls per method and code", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const echo = createClient(EchoService, grpcTransport());
    const answer = await echo.echo({ text: "hi" }, { headers: { traceparent } });
    expect(answer.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(answer.parentId).toMatch(/^[0-9a-f]{16}$/);
    expect(answer.parentId).not.toBe("00f067aa0ba902b7");

    const history = createClient(HistoryService, grpcTransport());
    const room = await freshRoom();
    const started = Date.now();
    const late = await (async () => {
      for await (const _ of history.watchRoom({ room }, { headers: auth(), timeoutMs: 400 }))
        void _;
    })().catch((error: unknown) => ConnectError.from(error));
    expect(late).toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - started).toBeLessThan(3000);

    // A stream is counted when the gateway has ended it, a moment after the client saw the end.
    const counts = () => gateway.metrics.snapshot();
    await waitUntil(
      () => counts()["/edgechat.v1.HistoryService/WatchRoom deadline_exceeded"],
      "counted",
    );
    expect(counts()["/edgechat.v1.HistoryService/WatchRoom deadline_exceeded"]?.calls).toBe(1);
    expect(counts()["/edgechat.test.v1.EchoService/Echo ok"]?.calls).toBeGreaterThanOrEqual(1);
  });
});

describe("two upstreams", () => {
  it("a WatchRoom whose upstream goes away resumes on the other, every event once and in order", async () => {
    const room = await freshRoom();
    await gateway.check();
    const history = createClient(HistoryService, grpcTransport());
    // Two watchers: round robin puts one on each upstream.
    const seen: bigint[][] = [[], []];
    const abort = new AbortController();
    const watchers = seen.map(async (seqs) => {
      try {
        for await (const { event } of history.watchRoom(
          { room, since: 2n },
          { headers: auth(), signal: abort.signal },
        ))
          seqs.push(event!.seq);
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Canceled) throw error;
      }
    });
    const posted: bigint[] = [];
    const post = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const { seq } = await messages().postMessage(
          { room, clientId: `m${posted.length}`, text: `m${posted.length}` },
          { headers: auth() },
        );
        posted.push(seq);
      }
    };
    await post(5);
    await waitUntil(() => seen.every((seqs) => seqs.length === 5), "both watchers going");
    expect(relay.outage()).toBeGreaterThanOrEqual(1);
    await post(10);
    const last = posted.at(-1)!;
    await waitUntil(() => seen.every((seqs) => seqs.at(-1) === last), "every event on both");
    abort.abort();
    await Promise.all(watchers);
    const expected = range(Number(posted[0]!), Number(last)).map(BigInt);
    expect(seen[0]).toEqual(expected);
    expect(seen[1]).toEqual(expected);
    expect(gateway.upstreams.healthy()).toEqual([server.url]);
    relay.restore();
    await gateway.check();
    expect(gateway.upstreams.healthy()).toEqual([server.url, relay.url]);
  });

  it("retries an idempotent call on the other upstream when one does not answer; never a call that is not", async () => {
    await gateway.check();
    relay.outage();
    // Round robin sends two calls in a row to the two upstreams: CreateRoom (not idempotent)
    // fails on the relay, is not sent again, and sets the relay aside; the other lands.
    const name = roomName("gw-retry");
    const outcomes: (string | Code)[] = [];
    for (const suffix of ["a", "b"])
      outcomes.push(
        await rooms()
          .createRoom({ name: `${name}-${suffix}` }, { headers: auth() })
          .then(
            (answer) => answer.room!.name,
            (error: unknown) => ConnectError.from(error).code,
          ),
      );
    expect(outcomes.filter((outcome) => outcome === Code.Unavailable)).toHaveLength(1);
    expect(gateway.upstreams.healthy()).toEqual([server.url]);
    const room = outcomes.find((outcome): outcome is string => typeof outcome === "string")!;

    // PostMessage is idempotent (client_id): one of two posts in a row is sent to the relay
    // first, finds it gone, and is sent again to the worker; both land.
    relay.restore();
    await gateway.check();
    relay.outage();
    const seqs = [];
    for (const clientId of ["r1", "r2"])
      seqs.push(
        (await messages().postMessage({ room, clientId, text: "retried" }, { headers: auth() }))
          .seq,
      );
    expect(seqs[1]).toBe(seqs[0]! + 1n);
    expect(gateway.upstreams.healthy()).toEqual([server.url]);
    relay.restore();
    await gateway.check();
  });
});
