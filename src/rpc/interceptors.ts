import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { toConnectError } from "./errors.ts";
import { callScopeKey, parseTraceparent, traceContextKey } from "./trace-context.ts";
import { failSpan, SpanKind, startSpan, type Scope } from "../telemetry/tracing.ts";

/** `/edgechat.v1.RoomService/PostMessage`: the method's path, as metrics and logs name it. */
const procedureOf = (req: { service: { typeName: string }; method: { name: string } }) =>
  `/${req.service.typeName}/${req.method.name}`;

/**
 * Errors as the contract names them (errors.ts), from the implementation's promise and from its
 * stream alike; anything unexpected is logged through `report` with the procedure's name and
 * reaches the client as `internal` with a fixed message.
 */
export function contractErrors(report: (procedure: string, error: unknown) => void): Interceptor {
  return (next) => async (req) => {
    const fail = (error: unknown): never => {
      throw toConnectError(error, (unexpected) => report(procedureOf(req), unexpected));
    };
    const response = await next(req).catch(fail);
    if (!response.stream) return response;
    return { ...response, message: catchingStream(response.message, fail) };
  };
}

async function* catchingStream<T>(messages: AsyncIterable<T>, fail: (error: unknown) => never) {
  try {
    yield* messages;
  } catch (error) {
    fail(error);
  }
}

/**
 * Ends a call at its deadline (`connect-timeout-ms`, `grpc-timeout`) or when the client goes
 * away, whatever the implementation does. Connect-ES parses both headers and aborts the call's
 * signal with `deadline_exceeded` at the deadline, but only an implementation that watches the
 * signal stops: one that does not would still answer `ok` after the deadline, or stream on.
 * This races the implementation's answer, and each message of its stream, against the signal.
 */
export const enforceDeadline: Interceptor = (next) => async (req) => {
  const response = await untilAborted(next(req), req.signal);
  if (!response.stream) return response;
  return { ...response, message: streamUntilAborted(response.message, req.signal) };
};

/** The call's signal's reason as an RPC error: the deadline's own, or `canceled`. */
function abortError(signal: AbortSignal): ConnectError {
  return signal.reason instanceof ConnectError
    ? signal.reason
    : new ConnectError("the call was canceled", Code.Canceled);
}

/** `work`, unless `signal` aborts first: then its reason. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  // race() handles a late rejection of the loser, so nothing goes unhandled.
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

async function* streamUntilAborted<T>(messages: AsyncIterable<T>, signal: AbortSignal) {
  const iterator = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const result = await untilAborted(iterator.next(), signal);
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // Lets the implementation's generator run its `finally` once it reaches its next yield.
    iterator.return?.().catch(() => {});
  }
}

/**
 * Carries the caller's W3C trace context (`traceparent`, `tracestate`) into the call's context
 * values (traceContextKey), for the implementation to hand on to the room's RPC.
 */
export const traceContext: Interceptor = (next) => (req) => {
  const trace = parseTraceparent(req.header.get("traceparent"), req.header.get("tracestate"));
  if (trace) req.contextValues.set(traceContextKey, trace);
  return next(req);
};

/**
 * A span per call, a child of `parentOf` the call (the request's SERVER span, which honoured the
 * caller's `traceparent`: src/telemetry/middleware.ts), named `service/method` with the RPC
 * semantic conventions' attributes; a stream's span ends with the stream, after its request's.
 */
export const callSpans =
  (parentOf: (values: ContextValues) => Scope | undefined): Interceptor =>
  (next) =>
  async (req) => {
    const scope = parentOf(req.contextValues);
    if (!scope) return next(req);
    const { span, scope: child } = startSpan(scope, procedureOf(req).slice(1), {
      kind: SpanKind.INTERNAL,
      attributes: {
        "rpc.system": "connect_rpc",
        "rpc.service": req.service.typeName,
        "rpc.method": req.method.name,
      },
    });
    req.contextValues.set(callScopeKey, child);
    const done = (error?: unknown) => {
      if (error !== undefined) {
        span.setAttribute(
          "rpc.connect_rpc.error_code",
          codeToString(ConnectError.from(error).code),
        );
        failSpan(span, error);
      }
      span.end();
    };
    return untilCallEnds(next(req), done);
  };

/** One finished call, for metrics per method and status code. */
export type RpcCallRecord = {
  /** `/edgechat.v1.RoomService/PostMessage` */
  readonly procedure: string;
  readonly stream: boolean;
  /** `ok`, or the RPC code as the Connect protocol spells it (`invalid_argument`, …). */
  readonly code: string;
  /**
   * From the call reaching the implementation to its answer or its stream's end. Inside workerd
   * the clock moves only across I/O, so pure computation reads as 0.
   */
  readonly durationMs: number;
};

/**
 * Hands `record` each call that reached the implementation, once it is over (a stream when it
 * ends); calls refused before it (a malformed or oversized request) are Connect's own and pass
 * no interceptor. Where the records go is the caller's: the observability work exports them.
 */
export function callMetrics(record: (call: RpcCallRecord) => void): Interceptor {
  return (next) => async (req) => {
    const start = Date.now();
    const done = (error?: unknown) =>
      record({
        procedure: procedureOf(req),
        stream: req.stream,
        code: error === undefined ? "ok" : codeToString(ConnectError.from(error).code),
        durationMs: Date.now() - start,
      });
    return untilCallEnds(next(req), done);
  };
}

/**
 * The implementation's answer, with `done` told once the call is over: when a unary answer or
 * a failure arrives, or when a stream ends, fails or is left (`canceled`).
 */
async function untilCallEnds<R extends { stream: boolean; message: unknown }>(
  answer: Promise<R>,
  done: (error?: unknown) => void,
): Promise<R> {
  let response: R;
  try {
    response = await answer;
  } catch (error) {
    done(error);
    throw error;
  }
  if (!response.stream) {
    done();
    return response;
  }
  return {
    ...response,
    message: recordedStream(response.message as AsyncIterable<unknown>, done),
  };
}

async function* recordedStream<T>(
  messages: AsyncIterable<T>,
  done: (error?: unknown) => void,
): AsyncGenerator<T> {
  let outcome: { error?: unknown } | undefined;
  try {
    yield* messages;
    outcome = {};
  } catch (error) {
    outcome = { error };
    throw error;
  } finally {
    // A stream that neither ended nor failed was left by its consumer: canceled.
    done(outcome ? outcome.error : new ConnectError("the stream was left", Code.Canceled));
  }
}
