/**
 * Traces from the real worker (workerd through wrangler) to a local OTLP/HTTP receiver that
 * decodes the protobuf wire format: the worker's SERVER span honours the caller's traceparent,
 * the room's `room.command` span is its child across the Durable Object RPC, a WebSocket frame's
 * command is a root span of its own, and `always_off` sends nothing. Postgres's `db.flush` is
 * in test/db/tracing.test.ts, where Postgres runs.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BEARER_PREFIX, ErrorBody, SUBPROTOCOL } from "../../src/protocol/index.ts";
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from "../support/otlp-receiver.ts";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  signIn,
  startServer,
  tryUpgrade,
  waitUntil,
  wsUrl,
  type Guest,
  type TestServer,
} from "./helpers.ts";

const SERVER = 2;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function spanNamed(receiver: OtlpReceiver, name: string, traceId: string) {
  return receiver.spans.find((span) => span.name === name && span.traceId === traceId);
}

describe("tracing on (the default sampler, parentbased_traceidratio at 1.0)", () => {
  let receiver: OtlpReceiver;
  let server: TestServer;
  let ada: Guest;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({
      vars: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=abc%20def",
        OTEL_SERVICE_NAME: "edgechat-test",
      },
    });
    [ada] = await signIn(server, "ada");
  });
  afterAll(async () => {
    await closeAll();
    assertNoInvalidFrames();
    await server?.dispose();
    await receiver?.close();
  });

  it("a post's trace: the caller's span → the worker's SERVER span → room.command", async () => {
    const room = await freshRoom(ada);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const answer = await fetch(`${server.url}/api/rooms/${room}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ada.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${callerSpan}-01`,
        "x-request-id": "req-trace-1",
      },
      body: JSON.stringify({ text: "traced hello", clientId: "c-trace-1" }),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get("x-request-id")).toBe("req-trace-1");
    const { seq } = (await answer.json()) as { seq: number };

    const worker = await waitUntil(
      () => spanNamed(receiver, "POST /api/rooms/:room/messages", traceId),
      "the worker's span",
    );
    const command = await waitUntil(
      () => spanNamed(receiver, "room.command", traceId),
      "the room's span",
    );
    expect(worker.parentSpanId).toBe(callerSpan);
    expect(worker.kind).toBe(SERVER);
    expect(worker.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/rooms/:room/messages",
      "http.response.status_code": 201n,
      "enduser.id": ada.user.id,
    });
    expect(command.parentSpanId).toBe(worker.spanId);
    expect(command.kind).toBe(SERVER);
    expect(command.attributes).toMatchObject({
      "edgechat.room": room,
      "edgechat.command.type": "post",
      "edgechat.command.outcome": "ok",
      "edgechat.seq": BigInt(seq),
      "edgechat.transport": "rpc",
    });
    // The room's span lies inside the worker's, on the same clock (epoch nanoseconds).
    expect(command.startTimeUnixNano).toBeGreaterThanOrEqual(worker.startTimeUnixNano);
    expect(command.endTimeUnixNano).toBeLessThanOrEqual(worker.endTimeUnixNano);
    const startMs = Number(worker.startTimeUnixNano / 1_000_000n);
    expect(Math.abs(startMs - Date.now())).toBeLessThan(60_000);
    expect(worker.resource["service.name"]).toBe("edgechat-test");
    // The configured headers reach the collector, percent-decoded.
    expect(receiver.requests.at(-1)?.headers["x-collector-key"]).toBe("abc def");
  });

  it("a request without a traceparent starts a trace; /commands joins it too", async () => {
    const room = await freshRoom(ada);
    const answer = await fetch(`${server.url}/api/rooms/${room}/commands`, {
      method: "POST",
      headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "topic", clientId: "c-topic", topic: "traced" }),
    });
    expect(answer.status).toBe(201);
    const requestId = answer.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const worker = await waitUntil(
      () => receiver.spans.find((span) => span.name === "POST /api/rooms/:room/commands"),
      "the worker's span",
    );
    expect(worker.parentSpanId).toBe("");
    const command = await waitUntil(
      () => spanNamed(receiver, "room.command", worker.traceId),
      "the room's span",
    );
    expect(command.parentSpanId).toBe(worker.spanId);
    expect(command.attributes["edgechat.command.type"]).toBe("topic");
  });

  it("a WebSocket frame's command is a root span in the room", async () => {
    const room = await freshRoom(ada);
    const client = await connect(server.url, room, ada);
    const seq = await client.conn.post("over the socket");
    const command = await waitUntil(
      () =>
        receiver.spans.find(
          (span: ReceivedSpan) =>
            span.name === "room.command" &&
            span.attributes["edgechat.room"] === room &&
            span.attributes["edgechat.transport"] === "websocket",
        ),
      "the frame's span",
    );
    expect(command.parentSpanId).toBe("");
    expect(command.attributes["edgechat.seq"]).toBe(BigInt(seq));
    // The upgrade itself is traced across the hop: the worker's request → room.connect.
    const connected = await waitUntil(
      () =>
        receiver.spans.find(
          (span) => span.name === "room.connect" && span.attributes["edgechat.room"] === room,
        ),
      "the upgrade's span in the room",
    );
    const upgrade = receiver.spans.find((span) => span.spanId === connected.parentSpanId);
    expect(upgrade?.name).toBe("GET /api/rooms/:room/ws");
    expect(upgrade?.traceId).toBe(connected.traceId);
    expect(connected.attributes["http.response.status_code"]).toBe(101n);
  });

  it("a GraphQL mutation: POST /graphql → the operation's span → room.command", async () => {
    const room = await freshRoom(ada);
    const traceId = hex(16);
    const answer = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ada.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: JSON.stringify({
        query: `mutation Post($room: String!) { postMessage(room: $room, clientId: "c-gql", text: "via graphql") { seq } }`,
        variables: { room },
      }),
    });
    expect(answer.status).toBe(200);
    const worker = await waitUntil(() => spanNamed(receiver, "POST /graphql", traceId), "worker");
    const operation = await waitUntil(() => spanNamed(receiver, "mutation Post", traceId), "op");
    const command = await waitUntil(() => spanNamed(receiver, "room.command", traceId), "room");
    expect(operation.parentSpanId).toBe(worker.spanId);
    expect(operation.attributes).toMatchObject({
      "graphql.operation.type": "mutation",
      "graphql.operation.name": "Post",
      "edgechat.graphql.outcome": "ok",
    });
    expect(command.parentSpanId).toBe(operation.spanId);
  });

  it("an RPC call: the request's span → the call's span → room.command", async () => {
    const room = await freshRoom(ada);
    const traceId = hex(16);
    const answer = await fetch(`${server.url}/rpc/edgechat.v1.MessageService/PostMessage`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ada.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: JSON.stringify({ room, clientId: "c-rpc", text: "via rpc" }),
    });
    expect(answer.status).toBe(200);
    const name = "edgechat.v1.MessageService/PostMessage";
    const call = await waitUntil(() => spanNamed(receiver, name, traceId), "the call's span");
    const worker = receiver.spans.find((s) => s.spanId === call.parentSpanId);
    expect(worker?.name).toMatch(/^POST /);
    expect(worker?.traceId).toBe(traceId);
    expect(call.attributes).toMatchObject({
      "rpc.system": "connect_rpc",
      "rpc.service": "edgechat.v1.MessageService",
      "rpc.method": "PostMessage",
    });
    const command = await waitUntil(() => spanNamed(receiver, "room.command", traceId), "room");
    expect(command.parentSpanId).toBe(call.spanId);
  });

  it("an error body carries the request id and the trace id", async () => {
    const traceId = hex(16);
    const answer = await fetch(`${server.url}/api/rooms/no-such-room-${hex(4)}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ada.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: JSON.stringify({ text: "nobody hears", clientId: "c-404" }),
    });
    expect(answer.status).toBe(404);
    const body = ErrorBody.parse(await answer.json());
    expect(body.error.code).toBe("not_found");
    expect(body.error.requestId).toBe(answer.headers.get("x-request-id"));
    expect(body.error.traceId).toBe(traceId);
  });

  it("a socket refused by the room answers with the worker's ids too", async () => {
    const traceId = hex(16);
    const refused = await tryUpgrade(
      wsUrl(server.url, `no-such-room-${hex(4)}`),
      [SUBPROTOCOL, `${BEARER_PREFIX}${ada.token}`],
      { traceparent: `00-${traceId}-${hex(8)}-01`, "x-request-id": "req-refused-ws" },
    );
    expect(refused.status).toBe(404);
    expect(ErrorBody.parse(JSON.parse(refused.body)).error).toEqual({
      code: "not_found",
      message: expect.any(String),
      requestId: "req-refused-ws",
      traceId,
    });
  });

  it("a malformed x-request-id is replaced, not echoed", async () => {
    const answer = await fetch(`${server.url}/healthz`, {
      headers: { "x-request-id": "two words; and more" },
    });
    expect(answer.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("tracing with OTEL_TRACES_SAMPLER=always_off", () => {
  let receiver: OtlpReceiver;
  let server: TestServer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({
      vars: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: "always_off" },
    });
  });
  afterAll(async () => {
    await server?.dispose();
    await receiver?.close();
  });

  it("sends no spans, yet error bodies still carry the trace id", async () => {
    const [bob] = await signIn(server, "bob");
    const room = await freshRoom(bob);
    await bob.api.postMessage(room, { text: "unsampled", clientId: "c-off" });
    const traceId = hex(16);
    const missing = await fetch(`${server.url}/api/rooms/${room}-gone`, {
      headers: { authorization: `Bearer ${bob.token}`, traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(ErrorBody.parse(await missing.json()).error.traceId).toBe(traceId);
    // A sampled request's spans reach the receiver well within this (the tests above).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.spans).toEqual([]);
    expect(receiver.requests).toEqual([]);
  });
});
