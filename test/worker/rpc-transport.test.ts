import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { LIMITS } from "../../src/protocol/index.ts";
import { INTERNAL_MESSAGE } from "../../src/rpc/errors.ts";
import { CountRequestSchema, EchoService } from "../../src/rpc/gen/edgechat/test/v1/echo_pb.js";
import { RoomService } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import { guest } from "./helpers.ts";

const ORIGIN = "http://edgechat.test";
const BASE = `${ORIGIN}/rpc`;
const ECHO = `${BASE}/edgechat.test.v1.EchoService`;

/** The real worker entry as a fetch: what the transports send, the app answers. */
const appFetch: typeof fetch = (input, init) =>
  exports.default.fetch(new Request(input, { ...init, redirect: "manual" }));

/** Connect-ES's own browser transports, run inside workerd against the app. */
const TRANSPORTS: [string, Transport][] = [
  [
    "Connect binary",
    createConnectTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: true }),
  ],
  [
    "Connect JSON",
    createConnectTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: false }),
  ],
  [
    "gRPC-web binary",
    createGrpcWebTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: true }),
  ],
  [
    "gRPC-web JSON",
    createGrpcWebTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: false }),
  ],
];

/** The error a call failed with, or a failure of the test when it did not fail. */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
  if (!outcome) throw new Error("the call succeeded");
  return outcome;
}

afterEach(() => vi.restoreAllMocks());

describe.each(TRANSPORTS)("RPC over %s", (_, transport) => {
  const echo = createClient(EchoService, transport);

  it("answers a unary call", async () => {
    const answer = await echo.echo({ text: "héllo ✓" });
    expect(answer.text).toBe("héllo ✓");
    expect(answer.traceId).toBe("");
  });

  it("carries the caller's traceparent into the call's context", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const answer = await echo.echo({ text: "t" }, { headers: { traceparent } });
    expect(answer.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(answer.parentId).toBe("b7ad6b7169203331");
  });

  it("streams a server-streaming call in order", async () => {
    const seen: number[] = [];
    for await (const message of echo.count({ to: 5 })) seen.push(message.n);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("maps a contract error to its RPC code, with the contract's code and Retry-After as metadata", async () => {
    const error = await failure(echo.echo({ text: "x", failWith: "rate_limited" }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe("echo failed with rate_limited on purpose");
    expect(error.metadata.get("edgechat-error-code")).toBe("rate_limited");
    expect(error.metadata.get("retry-after")).toBe("3");
  });

  it("ends a stream with the mapped error after the messages sent before it", async () => {
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const message of echo.count({ to: 2, failWith: "forbidden" }))
          seen.push(message.n);
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.metadata.get("edgechat-error-code")).toBe("forbidden");
  });

  it("answers an unexpected error as internal with a fixed message, and logs it", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const error = await failure(echo.echo({ text: "x", failWith: "crash" }));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe(INTERNAL_MESSAGE);
    expect(JSON.stringify([error.message, [...error.metadata]])).not.toMatch(/secret|TypeError/);
    const lines = log.mock.calls.map(([line]) => JSON.parse(String(line)) as unknown);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "unhandled error in an RPC",
        procedure: "/edgechat.test.v1.EchoService/Echo",
        error: expect.objectContaining({ message: "echo crashed on purpose at /srv/secret/path" }),
      }),
    );
  });

  it("refuses a message over 64 KiB with resource_exhausted", async () => {
    const error = await failure(echo.echo({ text: "x".repeat(LIMITS.frameBytes + 1) }));
    expect(error.code).toBe(Code.ResourceExhausted);
  });

  it("refuses bad input with invalid_argument", async () => {
    const error = await failure(echo.echo({ text: "x", delayMs: 60_000 }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("delay_ms is at most 10000");
  });
});

describe("the product's services on the transport", () => {
  it("serves RoomService with the caller's token, GET for a method without side effects", async () => {
    const owner = await guest("rpc-owner");
    const headers = { authorization: `Bearer ${owner.token}` };
    const name = `rpc-${crypto.randomUUID().slice(0, 8)}`;
    const rooms = createClient(RoomService, TRANSPORTS[0]![1]);
    const created = await rooms.createRoom({ name, topic: "over RPC" }, { headers });
    expect(created.room).toMatchObject({ name, topic: "over RPC" });
    const seen: string[] = [];
    const viaGet = createConnectTransport({
      baseUrl: BASE,
      useHttpGet: true,
      fetch: (input, init) => {
        seen.push(init?.method ?? "GET");
        return appFetch(input, init);
      },
    });
    const got = await createClient(RoomService, viaGet).getRoom({ room: name }, { headers });
    expect(got.room?.name).toBe(name);
    expect(seen).toEqual(["GET"]);
  });

  it("refuses a call without a token unauthenticated, as REST refuses it 401", async () => {
    const error = await failure(
      createClient(RoomService, TRANSPORTS[2]![1]).getRoom({ room: "x" }),
    );
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.metadata.get("edgechat-error-code")).toBe("unauthorized");
  });
});

/** A raw POST, as a client in any language would send it. */
const post = (path: string, headers: Record<string, string>, body: BodyInit) =>
  exports.default.fetch(new Request(`${ECHO}/${path}`, { method: "POST", headers, body }));

/** A gRPC-web frame: flag byte, big-endian length, payload. */
function envelope(payload: Uint8Array, flags = 0): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(5 + payload.length);
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame[0] = flags;
  frame.set(payload, 5);
  return frame;
}

/** The envelopes of a streamed body: flags and payload. */
function framesOf(body: Uint8Array): { flags: number; data: Uint8Array }[] {
  const frames: { flags: number; data: Uint8Array }[] = [];
  for (let at = 0; at < body.length;) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    frames.push({ flags: body[at]!, data: body.slice(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// A tag (field 15, varint) and no value: not a message of any type.
const MALFORMED = new Uint8Array([0x78]);

describe("RPC on the wire", () => {
  it("answers a Connect unary message that does not decode 400 invalid_argument, not 500", async () => {
    const res = await post("Echo", { "content-type": "application/proto" }, MALFORMED);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/^the request is not a valid edgechat.test.v1.EchoRequest: /),
    });
  });

  it("ends a Connect stream whose request does not decode with invalid_argument", async () => {
    const res = await post(
      "Count",
      { "content-type": "application/connect+proto" },
      envelope(MALFORMED),
    );
    const [end] = framesOf(new Uint8Array(await res.arrayBuffer()));
    expect(end!.flags).toBe(0x02);
    expect(JSON.parse(text(end!.data))).toMatchObject({ error: { code: "invalid_argument" } });
  });

  it.each(["Echo", "Count"])(
    "answers a gRPC-web %s request that does not decode grpc-status 3",
    async (method) => {
      const res = await post(
        method,
        { "content-type": "application/grpc-web+proto" },
        envelope(MALFORMED),
      );
      const [trailer] = framesOf(new Uint8Array(await res.arrayBuffer()));
      expect(trailer!.flags).toBe(0x80);
      expect(text(trailer!.data)).toMatch(/grpc-status: 3\r\n/);
    },
  );

  it("still refuses an oversized message resource_exhausted past the decoding check", async () => {
    const res = await post(
      "Count",
      { "content-type": "application/grpc-web+proto" },
      envelope(new Uint8Array(LIMITS.frameBytes + 10)),
    );
    const frames = framesOf(new Uint8Array(await res.arrayBuffer()));
    expect(text(frames.at(-1)!.data)).toMatch(/grpc-status: 8\r\n/);
  });

  it("speaks Connect's unary JSON as plain HTTP (curl can call it)", async () => {
    const res = await post(
      "Echo",
      { "content-type": "application/json", "connect-protocol-version": "1" },
      JSON.stringify({ text: "plain" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ text: "plain" });
  });

  it("ends a call that ignores its deadline at connect-timeout-ms, not when it is done", async () => {
    const started = Date.now();
    const res = await post(
      "Echo",
      { "content-type": "application/json", "connect-timeout-ms": "200" },
      JSON.stringify({ text: "slow", delayMs: 3000 }),
    );
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({
      code: "deadline_exceeded",
      message: "the operation timed out",
    });
    expect(elapsed).toBeLessThan(2500);
  });

  it("ends a gRPC-web stream at grpc-timeout, its messages so far delivered, the status in the trailer frame", async () => {
    const request = toBinary(
      CountRequestSchema,
      create(CountRequestSchema, { to: 100, intervalMs: 100 }),
    );
    const res = await post(
      "Count",
      { "content-type": "application/grpc-web+proto", "grpc-timeout": "350m" },
      envelope(request),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/grpc-web+proto");
    const frames = framesOf(new Uint8Array(await res.arrayBuffer()));
    const trailer = frames.at(-1)!;
    expect(trailer.flags).toBe(0x80);
    expect(text(trailer.data)).toMatch(/grpc-status: 4\r\n/);
    // Messages 1, 2, 3 (and perhaps 4) came out before the deadline; not 100 of them.
    expect(frames.length - 1).toBeGreaterThanOrEqual(2);
    expect(frames.length - 1).toBeLessThan(10);
  });

  it("answers an unknown procedure 404, which clients read as unimplemented", async () => {
    const res = await post("Nope", { "content-type": "application/json" }, "{}");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "unimplemented", message: "no such procedure" });
  });

  it("does not serve the fixture without RPC_ECHO", async () => {
    const app = createApp();
    const res = await app.fetch(
      new Request(`${ECHO}/Echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "x" }),
      }),
      { ...env, RPC_ECHO: "false" },
      { waitUntil: () => {}, passThroughOnException: () => {}, props: {} },
    );
    expect(res.status).toBe(404);
  });

  it("lets an allowed origin's browser in (preflight) and exposes the RPC's headers", async () => {
    const preflight = await exports.default.fetch(
      new Request(`${ECHO}/Echo`, {
        method: "OPTIONS",
        headers: {
          origin: ORIGIN,
          "access-control-request-method": "POST",
          "access-control-request-headers": "connect-protocol-version,content-type,authorization",
        },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const allowed = preflight.headers.get("access-control-allow-headers")?.toLowerCase() ?? "";
    for (const header of [
      "connect-protocol-version",
      "connect-timeout-ms",
      "x-grpc-web",
      "authorization",
      "traceparent",
    ])
      expect(allowed).toContain(header);
    const res = await post(
      "Echo",
      { origin: ORIGIN, "content-type": "application/json" },
      JSON.stringify({ text: "x" }),
    );
    const exposed = res.headers.get("access-control-expose-headers")?.toLowerCase() ?? "";
    for (const header of ["grpc-status", "grpc-message", "edgechat-error-code", "retry-after"])
      expect(exposed).toContain(header);
  });

  it("gives a foreign origin no CORS grant", async () => {
    const preflight = await exports.default.fetch(
      new Request(`${ECHO}/Echo`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      }),
    );
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});
