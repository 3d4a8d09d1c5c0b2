import type {
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Transport } from "@connectrpc/connect";
import { ERROR_CODE_HEADER, RETRY_AFTER_HEADER } from "../rpc/errors.ts";
import { childTraceparent, traceContextKey } from "../rpc/trace-context.ts";
import { retriable, unreachable } from "./retry.ts";
import type { Upstreams } from "./upstreams.ts";

/** The request headers a call carries on to the worker as they came: the caller's credentials. */
const FORWARDED = ["authorization", "tracestate"];

/** How the gateway reaches one worker origin (connect-node's Connect transport, server.ts). */
export type TransportFor = (upstream: string) => Transport;

/** The handlers of one upstream call, shared by every forwarded method. */
export type Forwarding = { upstreams: Upstreams; transportFor: TransportFor };

/**
 * The headers of the call to the worker: the caller's credentials and, when the caller sent a
 * trace context, a child span of it (the gateway's hop), so that the trace goes on through the
 * worker (W3C trace context; the worker's interceptor reads it).
 */
export function forwardedHeaders(context: HandlerContext): Headers {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = context.requestHeader.get(name);
    if (value !== null) headers.set(name, value);
  }
  const trace = context.values.get(traceContextKey);
  if (trace) headers.set("traceparent", childTraceparent(trace));
  return headers;
}

/**
 * Tries `attempt` on the upstreams in round-robin order: the next one only after an upstream
 * did not answer (it is set aside until its health check passes) and only for a method that may
 * be retried (retry.ts); `unavailable` when none is left.
 */
/**
 * An upstream's error as the gateway answers it: its code and message, and the contract's
 * metadata (not the upstream's HTTP headers, which mean nothing to a gRPC client).
 */
function relayed(error: unknown): unknown {
  if (!(error instanceof ConnectError)) return error;
  const metadata = new Headers();
  for (const name of [ERROR_CODE_HEADER, RETRY_AFTER_HEADER]) {
    const value = error.metadata.get(name);
    if (value !== null) metadata.set(name, value);
  }
  return new ConnectError(error.rawMessage, error.code, metadata, undefined, error);
}

export async function onUpstreams<T>(
  forwarding: Forwarding,
  method: DescMethod,
  attempt: (transport: Transport, upstream: string) => Promise<T>,
): Promise<T> {
  let last: unknown = new ConnectError("no healthy upstream", Code.Unavailable);
  for (const upstream of forwarding.upstreams.order()) {
    try {
      return await attempt(forwarding.transportFor(upstream), upstream);
    } catch (error) {
      const gone = unreachable(error);
      if (gone) forwarding.upstreams.down(upstream);
      // Not sent again: a worker that did not answer is `unavailable` to the caller, who may
      // know better than the gateway whether trying again is safe.
      if (!retriable(method, error))
        throw gone
          ? new ConnectError("the worker did not answer", Code.Unavailable)
          : relayed(error);
      last = error;
    }
  }
  throw last;
}

/** A unary method of `service`, answered by a worker. */
export function forwardUnary(forwarding: Forwarding, method: DescMethodUnary) {
  return (request: unknown, context: HandlerContext) =>
    onUpstreams(forwarding, method, async (transport) => {
      const answer = await transport.unary(
        method,
        context.signal,
        context.timeoutMs(),
        forwardedHeaders(context),
        request as never,
      );
      return answer.message;
    });
}

/** A server-streaming method, relayed from one worker until it ends (WatchRoom resumes: watch.ts). */
export function forwardServerStream(forwarding: Forwarding, method: DescMethodServerStreaming) {
  return async function* (request: unknown, context: HandlerContext) {
    const answer = await onUpstreams(forwarding, method, (transport) =>
      transport.stream(
        method,
        context.signal,
        context.timeoutMs(),
        forwardedHeaders(context),
        single(request as never),
      ),
    );
    yield* answer.message;
  };
}

export async function* single<T>(message: T): AsyncIterable<T> {
  yield message;
}

/**
 * Every unary and server-streaming method of `service`, forwarded; `overrides` for those the
 * gateway answers itself (WatchRoom's resume, Converse).
 */
export function forwardService(
  forwarding: Forwarding,
  service: DescService,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    switch (method.methodKind) {
      case "unary":
        impl[method.localName] = forwardUnary(forwarding, method as DescMethodUnary);
        break;
      case "server_streaming":
        impl[method.localName] = forwardServerStream(
          forwarding,
          method as DescMethodServerStreaming,
        );
        break;
      case "client_streaming":
      case "bidi_streaming":
        // The worker serves neither (HTTP/1.1): the gateway answers these itself (overrides).
        break;
    }
  }
  return { ...impl, ...overrides };
}
