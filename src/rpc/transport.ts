import type { DescService } from "@bufbuild/protobuf";
import {
  cors as connectCors,
  createConnectRouter,
  createContextValues,
  type ConnectRouter,
} from "@connectrpc/connect";
import {
  assertByteStreamRequest,
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
  type UniversalHandler,
} from "@connectrpc/connect/protocol";
import type { Context, Hono } from "hono";
import { countInIsolate, observeInIsolate } from "../metrics/isolate.ts";
import { cors } from "hono/cors";
import type { Config } from "../config.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { isAllowedOrigin } from "../http/origin.ts";
import { LIMITS } from "../protocol/index.ts";
import { HONO } from "./context.ts";
import { binaryFraming, decodableBody } from "./decodable.ts";
import { RPC_PREFIX } from "./prefix.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { ERROR_CODE_HEADER, RETRY_AFTER_HEADER } from "./errors.ts";
import {
  callMetrics,
  callSpans,
  contractErrors,
  enforceDeadline,
  traceContext,
  type RpcCallRecord,
} from "./interceptors.ts";

/**
 * CORS for connect-web in a browser, by the app's origin rules (src/http/origin.ts): Connect's
 * own lists of methods and headers, the bearer token and the trace context in, the contract's
 * error metadata out. No credentials: the RPC reads a bearer token, never a cookie.
 */
const rpcCors = cors({
  origin: (origin, c) => (isAllowedOrigin(c as Context<AppEnv>, origin) ? origin : null),
  allowMethods: [...connectCors.allowedMethods],
  allowHeaders: [...connectCors.allowedHeaders, "authorization", "traceparent", "tracestate"],
  exposeHeaders: [...connectCors.exposedHeaders, ERROR_CODE_HEADER, RETRY_AFTER_HEADER],
  maxAge: 600,
});

/** Each call in the isolate's metrics: by procedure and code, and its duration. */
function countCall(call: RpcCallRecord): void {
  countInIsolate("rpc_calls_total", { procedure: call.procedure, code: call.code });
  observeInIsolate(
    "rpc_call_duration_seconds",
    { procedure: call.procedure },
    call.durationMs / 1000,
  );
}

export type RpcOptions = {
  /** Registers the services on the router (services/index.ts's `routes`, plus test fixtures). */
  readonly routes: (router: ConnectRouter) => unknown;
  /** Whether this worker serves `service` under `config` (default: every service, always). */
  readonly served?: (service: DescService, config: Config) => boolean;
  /** Where each finished call's record goes; by default the isolate's metrics. */
  readonly recordCall?: (call: RpcCallRecord) => void;
};

/**
 * Serves the services that `options.routes` registers over the Connect protocol (binary and
 * JSON) and gRPC-web under RPC_PREFIX, unary and server streaming, through Connect-ES's
 * universal handlers. Plain gRPC is off: it needs HTTP/2 trailers, which a Worker cannot send
 * (docs/rpc.md).
 */
export function mountRpc(app: Hono<AppEnv>, options: RpcOptions): void {
  const router = createConnectRouter({
    connect: true,
    grpcWeb: true,
    grpc: false,
    // Each message, like each REST body and socket frame; Connect answers resource_exhausted.
    readMaxBytes: LIMITS.frameBytes,
    interceptors: [
      callMetrics(options.recordCall ?? countCall),
      traceContext,
      callSpans((values) => values.get(HONO)?.var.telemetry?.scope),
      enforceDeadline,
      contractErrors((procedure, error) =>
        log.error("unhandled error in an RPC", { procedure, error: errorFields(error) }),
      ),
    ],
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const served = options.served ?? (() => true);

  app.use(`${RPC_PREFIX}/*`, rpcCors);
  app.all(`${RPC_PREFIX}/*`, async (c) => {
    const handler = handlers.get(c.req.path.slice(RPC_PREFIX.length));
    if (!handler || !served(handler.service, settings(c))) return noSuchProcedure();
    return serve(handler, c);
  });
}

/** One call: the fetch request in, Connect's answer out, its body streamed as it is produced. */
async function serve(handler: UniversalHandler, c: Context<AppEnv>): Promise<Response> {
  const request = universalServerRequestFromFetch(c.req.raw, {});
  assertByteStreamRequest(request);
  const encoding = c.req.header("content-encoding");
  const framing =
    encoding && encoding !== "identity"
      ? undefined
      : binaryFraming(c.req.header("content-type") ?? null);
  const body = framing
    ? decodableBody(request.body, handler.method.input, framing, LIMITS.frameBytes + ENVELOPE_BYTES)
    : request.body;
  const contextValues = createContextValues().set(HONO, c);
  const response = universalServerResponseToFetch(
    await handler({ ...request, body, contextValues }),
  );
  // A unary Connect answer in protobuf is on no list of types the runtime (or Cloudflare's edge)
  // compresses by itself, where JSON is: have it gzipped (the runtime does, given the header and
  // a plain body), as Connect's unary compression is HTTP's own. Never a stream: its messages must
  // not wait in a compressor (Connect and gRPC-web compress those per message, if at all).
  if (
    response.headers.get("content-type") === UNARY_BINARY &&
    !response.headers.has("content-encoding")
  )
    response.headers.set("content-encoding", "gzip");
  return response;
}

const UNARY_BINARY = "application/proto";

/** A message envelope's header: a flags byte and a 32-bit length. */
const ENVELOPE_BYTES = 5;

/**
 * 404 with a Connect error body: Connect clients read `unimplemented` from it, gRPC-web clients
 * from the status, as for a method the server does not have.
 */
function noSuchProcedure(): Response {
  return Response.json(
    { code: "unimplemented", message: "no such procedure" },
    { status: 404, headers: { [ERROR_CODE_HEADER]: "not_found" } },
  );
}
