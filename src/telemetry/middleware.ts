import type { Context, MiddlewareHandler } from "hono";
import { telemetryConfig } from "../config.ts";
import { errorFields, log, useLogLevel } from "./log.ts";
import {
  scopeFrom,
  SpanKind,
  SpanStatusCode,
  startSpan,
  tracingOf,
  type Scope,
  type Span,
} from "./tracing.ts";

/** What every later handler of a request can read of its telemetry (`c.var.telemetry`). */
export type RequestTelemetry = {
  /** The request's id: the caller's well-formed `x-request-id`, or a new UUID. */
  readonly requestId: string;
  /** The request's SERVER span as the parent of what it does; undefined when tracing is off. */
  readonly scope: Scope | undefined;
  /** The request's trace id, when traced. */
  readonly traceId: string | undefined;
};

export type TelemetryEnv = {
  Bindings: object;
  Variables: { telemetry: RequestTelemetry; user?: { id: string } };
};

export const REQUEST_ID_HEADER = "x-request-id";

// Printable, no spaces or separators a log or header could be confused by; bounded.
const WELL_FORMED_ID = /^[\w.:@=+/-]{1,128}$/;

/** The caller's request id if it is well formed, else a fresh one. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming && WELL_FORMED_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * The first middleware: gives the request its id (in `x-request-id` on every answer), its SERVER
 * span named `METHOD route` (a child of the caller's W3C `traceparent`), and its log line. The
 * spans it and its handlers made are sent when it ends, inside `waitUntil`.
 */
export const requestTelemetry: MiddlewareHandler<TelemetryEnv> = async (c, next) => {
  const started = Date.now();
  const config = telemetryConfig(c.env);
  useLogLevel(config.LOG_LEVEL);
  const requestId = requestIdOf(c.req.header(REQUEST_ID_HEADER));
  const root = scopeFrom(tracingOf(c.env), c.req.header("traceparent"), c.req.header("tracestate"));
  const server = root && startSpan(root, c.req.method, { kind: SpanKind.SERVER });
  const traceId = server?.span.spanContext().traceId;
  c.set("telemetry", { requestId, scope: server?.scope, traceId });
  await next();
  const route = c.req.routePath;
  if (server) endServerSpan(server.span, c, route);
  logRequest(c, {
    requestId,
    traceId,
    span: server?.span,
    route,
    durationMs: Date.now() - started,
  });
  setHeader(c, REQUEST_ID_HEADER, requestId);
  if (root) root.tracing.export((work) => c.executionCtx.waitUntil(work));
};

function endServerSpan(span: Span, c: Context<TelemetryEnv>, route: string): void {
  const status = c.res.status;
  span.updateName(`${c.req.method} ${route}`);
  span.setAttributes({
    "http.request.method": c.req.method,
    "http.route": route,
    "url.path": c.req.path,
    "url.scheme": new URL(c.req.url).protocol.replace(":", ""),
    "http.response.status_code": status,
    ...(c.var.user ? { "enduser.id": c.var.user.id } : {}),
  });
  // The semantic conventions: a 4xx is the client's failure, not the server span's.
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

function logRequest(
  c: Context<TelemetryEnv>,
  line: {
    requestId: string;
    traceId: string | undefined;
    span: Span | undefined;
    route: string;
    durationMs: number;
  },
): void {
  const status = c.res.status;
  const level = status >= 500 ? "error" : "info";
  log[level]("request", {
    requestId: line.requestId,
    traceId: line.traceId,
    spanId: line.span?.spanContext().spanId,
    method: c.req.method,
    route: line.route,
    path: c.req.path,
    status,
    durationMs: line.durationMs,
    userId: c.var.user?.id,
    ...(c.error && status >= 500 ? { error: errorFields(c.error) } : {}),
  });
}

/** Sets a header on the answer; a 101's and a stub's headers may be immutable, then it is left. */
function setHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    // An immutable answer (a WebSocket upgrade passed through): nothing to add it to.
  }
}
