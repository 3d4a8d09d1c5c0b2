import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import type { Config } from "../config.ts";
import { ApiError, ErrorCode } from "../protocol/index.ts";
import { EchoService } from "./gen/edgechat/test/v1/echo_pb.js";
import { traceContextKey } from "./trace-context.ts";

/** Bounds of the fixture's inputs, so that even a test service cannot be made to run long. */
export const ECHO_LIMITS = { delayMs: 10_000, intervalMs: 10_000, count: 1_000 } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function atMost(value: number, max: number, field: string): void {
  if (value > max) throw new ApiError("bad_request", `${field} is at most ${max}`);
}

/** Fails as `failWith` names: a contract error code, or "crash" for an unexpected error. */
function failIfAsked(failWith: string): void {
  if (failWith === "") return;
  // A message a client must never see (the tests look for it), as a real bug's would be.
  if (failWith === "crash") throw new TypeError("echo crashed on purpose at /srv/secret/path");
  const code = ErrorCode.safeParse(failWith);
  if (!code.success) throw new ApiError("bad_request", "fail_with names no error code");
  const retryAfter = code.data === "rate_limited" ? 2.5 : undefined;
  throw new ApiError(code.data, `echo failed with ${code.data} on purpose`, { retryAfter });
}

/**
 * edgechat.test.v1.EchoService: the RPC transport's test fixture (proto/edgechat/test/v1),
 * served only with RPC_ECHO on. Its delay ignores the call's signal on purpose, so that the
 * tests prove the deadline interceptor ends such a call anyway.
 */
export const echo: ServiceImpl<typeof EchoService> = {
  async echo(request, context) {
    atMost(request.delayMs, ECHO_LIMITS.delayMs, "delay_ms");
    const timeoutMs = context.timeoutMs() ?? 0;
    await sleep(request.delayMs);
    failIfAsked(request.failWith);
    const trace = context.values.get(traceContextKey);
    return {
      text: request.text,
      traceId: trace?.traceId ?? "",
      parentId: trace?.parentId ?? "",
      timeoutMs,
    };
  },
  async *count(request) {
    atMost(request.to, ECHO_LIMITS.count, "to");
    atMost(request.intervalMs, ECHO_LIMITS.intervalMs, "interval_ms");
    for (let n = 1; n <= request.to; n++) {
      if (n > 1) await sleep(request.intervalMs);
      yield { n };
    }
    failIfAsked(request.failWith);
  },
};

/** Registers the fixture on `router` (the transport serves it only where servesEcho says). */
export const echoRoutes = (router: ConnectRouter) => router.service(EchoService, echo);

/** Every service is served, but the fixture only with RPC_ECHO on (the tests' configuration). */
export const servesEcho = (service: DescService, config: Config) =>
  service !== EchoService || config.RPC_ECHO;
