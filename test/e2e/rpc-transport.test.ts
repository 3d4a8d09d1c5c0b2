/**
 * The RPC transport through the real server (wrangler dev: its proxy, then workerd), called by
 * @connectrpc/connect-node's clients over HTTP/1.1 as a back-end service would: Connect binary,
 * Connect JSON and gRPC-web. Server streaming must stream: each message reaches the client while
 * the server is still producing the next. Deadlines end calls at the server.
 */
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/protocol/index.ts";
import { EchoService } from "../../src/rpc/gen/edgechat/test/v1/echo_pb.js";
import { useServer, type TestServer } from "./helpers.ts";

let server: TestServer;
useServer((started) => void (server = started), { vars: { RPC_ECHO: "true" } });

const base = () => `${server.url}/rpc`;
const TRANSPORTS: [string, () => Transport][] = [
  [
    "Connect binary",
    () => createConnectTransport({ baseUrl: base(), httpVersion: "1.1", useBinaryFormat: true }),
  ],
  [
    "Connect JSON",
    () => createConnectTransport({ baseUrl: base(), httpVersion: "1.1", useBinaryFormat: false }),
  ],
  ["gRPC-web", () => createGrpcWebTransport({ baseUrl: base(), httpVersion: "1.1" })],
];

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
  if (!outcome) throw new Error("the call succeeded");
  return outcome;
}

describe.each(TRANSPORTS)("RPC through wrangler dev over %s", (_, transport) => {
  const client = () => createClient(EchoService, transport());

  it("answers a unary call and carries the trace context", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const answer = await client().echo({ text: "hello" }, { headers: { traceparent } });
    expect(answer).toMatchObject({
      text: "hello",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
    });
  });

  it("streams: each message arrives while the server is still producing the next", async () => {
    const INTERVAL = 700;
    const started = performance.now();
    const arrivals: number[] = [];
    for await (const message of client().count({ to: 4, intervalMs: INTERVAL })) {
      arrivals.push(performance.now() - started);
      expect(message.n).toBe(arrivals.length);
    }
    expect(arrivals).toHaveLength(4);
    // Buffered, all four would arrive together at the end (~2.1 s); streamed, they come one
    // interval apart, the first ~2 s before the server has produced the last.
    for (let i = 1; i < arrivals.length; i++)
      expect(arrivals[i]! - arrivals[i - 1]!, `gap before message ${i + 1}`).toBeGreaterThan(
        INTERVAL * 0.6,
      );
    expect(arrivals[3]! - arrivals[0]!).toBeGreaterThan(INTERVAL * 2.5);
  });

  it("expires a deadline: a call that takes longer fails with deadline_exceeded", async () => {
    const started = performance.now();
    const error = await failure(client().echo({ text: "slow", delayMs: 5000 }, { timeoutMs: 300 }));
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("ends a stream at its deadline after the messages sent in time", async () => {
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const message of client().count(
          { to: 100, intervalMs: 200 },
          { timeoutMs: 700 },
        ))
          seen.push(message.n);
      })(),
    );
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(10);
  });

  it("maps the contract's errors, with its code in the metadata", async () => {
    const error = await failure(client().echo({ failWith: "unauthorized" }));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.metadata.get("edgechat-error-code")).toBe("unauthorized");
  });

  it("refuses a message over 64 KiB with resource_exhausted", async () => {
    const error = await failure(client().echo({ text: "x".repeat(LIMITS.frameBytes + 1) }));
    expect(error.code).toBe(Code.ResourceExhausted);
  });
});

describe("deadlines are kept by the server, not only by the client", () => {
  // A raw request carries the timeout header, but the client does not enforce it: the answer
  // that comes back early is the server's.
  it("answers a Connect call deadline_exceeded at connect-timeout-ms", async () => {
    const started = performance.now();
    const res = await fetch(`${base()}/edgechat.test.v1.EchoService/Echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "300" },
      body: JSON.stringify({ text: "slow", delayMs: 5000 }),
    });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: "deadline_exceeded" });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("answers a gRPC-web call grpc-status 4 at grpc-timeout", async () => {
    // EchoRequest{text: "slow", delay_ms: 5000}, in one gRPC-web frame.
    const message = new Uint8Array([
      0x0a,
      4,
      ...new TextEncoder().encode("slow"),
      0x10,
      0x88,
      0x27,
    ]);
    const frame = new Uint8Array([0, 0, 0, 0, message.length, ...message]);
    const started = performance.now();
    const res = await fetch(`${base()}/edgechat.test.v1.EchoService/Echo`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "grpc-timeout": "300m" },
      body: frame,
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(200);
    expect(body[0]).toBe(0x80); // the trailer frame, and no message before it
    expect(new TextDecoder().decode(body.subarray(5))).toMatch(/grpc-status: 4\r\n/);
  });
});
