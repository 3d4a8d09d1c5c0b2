import {
  Code,
  ConnectError,
  createClient,
  createContextValues,
  createRouterTransport,
  type Interceptor,
  type StreamResponse,
  type UnaryResponse,
} from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../src/protocol/index.ts";
import { EchoService } from "../../src/rpc/gen/edgechat/test/v1/echo_pb.js";
import {
  callMetrics,
  contractErrors,
  enforceDeadline,
  traceContext,
  type RpcCallRecord,
} from "../../src/rpc/interceptors.ts";
import { traceContextKey } from "../../src/rpc/trace-context.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client of EchoService served in memory by a real Connect router with `interceptors`, and an
 * implementation written for these tests (the worker's own fixture needs the worker).
 */
function echoWith(interceptors: Interceptor[]) {
  const transport = createRouterTransport(
    (router) =>
      router.service(EchoService, {
        echo(request, context) {
          if (request.failWith === "crash") throw new Error("boom");
          if (request.failWith) throw new ApiError("forbidden", "not yours");
          return { text: request.text, traceId: context.values.get(traceContextKey)?.traceId };
        },
        async *count(request) {
          for (let n = 1; n <= request.to; n++) yield { n };
          if (request.failWith) throw new ApiError("quota", "enough");
        },
      }),
    { router: { interceptors } },
  );
  return createClient(EchoService, transport);
}

const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => "ok",
    (error: unknown) => ConnectError.from(error).code,
  );

async function drain(stream: AsyncIterable<{ n: number }>): Promise<number[]> {
  const seen: number[] = [];
  for await (const message of stream) seen.push(message.n);
  return seen;
}

describe("callMetrics", () => {
  it("records each call's procedure and code once it is over, streams when they end", async () => {
    const records: RpcCallRecord[] = [];
    const echo = echoWith([callMetrics((call) => records.push(call)), contractErrors(() => {})]);
    await echo.echo({ text: "a" });
    await codeOf(echo.echo({ text: "a", failWith: "yes" }));
    expect(await drain(echo.count({ to: 3 }))).toEqual([1, 2, 3]);
    await codeOf(drain(echo.count({ to: 1, failWith: "yes" })));
    expect(records.map(({ procedure, stream, code }) => [procedure, stream, code])).toEqual([
      ["/edgechat.test.v1.EchoService/Echo", false, "ok"],
      ["/edgechat.test.v1.EchoService/Echo", false, "permission_denied"],
      ["/edgechat.test.v1.EchoService/Count", true, "ok"],
      ["/edgechat.test.v1.EchoService/Count", true, "resource_exhausted"],
    ]);
    for (const record of records) expect(record.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("contractErrors", () => {
  it("maps errors from a promise and from a stream, and reports only the unexpected", async () => {
    const report = vi.fn();
    const echo = echoWith([contractErrors(report)]);
    expect(await codeOf(echo.echo({ failWith: "yes" }))).toBe(Code.PermissionDenied);
    expect(await codeOf(drain(echo.count({ to: 2, failWith: "yes" })))).toBe(
      Code.ResourceExhausted,
    );
    expect(report).not.toHaveBeenCalled();
    const crash = await echo.echo({ failWith: "crash" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect([crash?.code, crash?.rawMessage]).toEqual([
      Code.Internal,
      "something went wrong on our side",
    ]);
    expect(report).toHaveBeenCalledWith(
      "/edgechat.test.v1.EchoService/Echo",
      expect.objectContaining({ message: "boom" }),
    );
  });
});

describe("traceContext", () => {
  it("puts a valid traceparent in the call's context values and ignores an invalid one", async () => {
    const echo = echoWith([traceContext]);
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const headers = { traceparent: `00-${trace}-b7ad6b7169203331-01` };
    expect((await echo.echo({}, { headers })).traceId).toBe(trace);
    expect((await echo.echo({}, { headers: { traceparent: "00-nope" } })).traceId).toBe("");
  });
});

describe("enforceDeadline", () => {
  /** A request of the shape interceptors get, with the call's signal. */
  function request(signal: AbortSignal, stream: boolean) {
    return {
      stream,
      signal,
      message: {},
      header: new Headers(),
      contextValues: createContextValues(),
      url: "http://edgechat.test/rpc/edgechat.test.v1.EchoService/Echo",
      requestMethod: "POST",
      service: EchoService,
      method: stream ? EchoService.method.count : EchoService.method.echo,
    } as unknown as Parameters<ReturnType<Interceptor>>[0];
  }
  const deadline = () => new ConnectError("the operation timed out", Code.DeadlineExceeded);

  it("rejects with the signal's reason when it aborts before the implementation answers", async () => {
    const controller = new AbortController();
    const slow = vi.fn(async () => {
      await sleep(10_000);
      return { stream: false } as UnaryResponse;
    });
    const call = enforceDeadline(slow)(request(controller.signal, false));
    setTimeout(() => controller.abort(deadline()), 20);
    await expect(call).rejects.toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("calls a cancellation by the client `canceled`", async () => {
    const controller = new AbortController();
    controller.abort(); // an AbortError, not a ConnectError
    const call = enforceDeadline(async () => ({ stream: false }) as UnaryResponse)(
      request(controller.signal, false),
    );
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
  });

  it("ends a stream at the deadline and closes the implementation's generator", async () => {
    const controller = new AbortController();
    let closed = false;
    async function* forever() {
      try {
        for (let n = 1; ; n++) {
          yield { n };
          await sleep(5);
        }
      } finally {
        closed = true;
      }
    }
    const response = (await enforceDeadline(
      async () => ({ stream: true, message: forever() }) as unknown as StreamResponse,
    )(request(controller.signal, true))) as StreamResponse;
    const seen: unknown[] = [];
    setTimeout(() => controller.abort(deadline()), 40);
    await expect(
      (async () => {
        for await (const message of response.message) seen.push(message);
      })(),
    ).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(seen.length).toBeGreaterThan(0);
    await sleep(20);
    expect(closed).toBe(true);
  });

  it("passes an answer that comes in time", async () => {
    const controller = new AbortController();
    const answer = { stream: false, message: { text: "ok" } } as unknown as UnaryResponse;
    await expect(
      enforceDeadline(async () => answer)(request(controller.signal, false)),
    ).resolves.toBe(answer);
  });
});
