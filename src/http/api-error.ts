import type { Context } from "hono";
import type { RequestTelemetry } from "../telemetry/middleware.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { HTTPException } from "hono/http-exception";
import { ApiError, ERROR_STATUS, ErrorCode, type ErrorBody } from "../protocol/index.ts";

export { ApiError };

/** The ids an error body carries, so that a report of it leads to the logs and the trace. */
export type ErrorIds = Pick<RequestTelemetry, "requestId" | "traceId">;

/**
 * The contract's error body for `error`, with the request's ids, and Retry-After when it says
 * when to try again.
 */
export function errorResponse(error: ApiError, ids?: ErrorIds): Response {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(ids && { requestId: ids.requestId }),
      ...(ids?.traceId && { traceId: ids.traceId }),
    },
  };
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (error.retryAfter !== undefined) headers["retry-after"] = String(Math.ceil(error.retryAfter));
  return new Response(JSON.stringify(body), { status: ERROR_STATUS[error.code], headers });
}

// The first code of a status names it (503 is `unavailable`; `overloaded` is only ever meant).
// `unsupported_type` is only ever meant too: it is about a file's bytes (docs/attachments.md),
// while a JSON route sent another Content-Type stays the `bad_request` it always was.
const CODE_OF_STATUS = new Map<number, ErrorCode>(
  ErrorCode.options
    .filter((code) => code !== "unsupported_type")
    .toReversed()
    .map((code) => [ERROR_STATUS[code], code]),
);

/** Maps anything thrown to the contract's error body; a client never sees a stack trace. */
export function renderError(error: unknown, c: Context): Response {
  const ids = idsOf(c);
  if (error instanceof ApiError) return errorResponse(error, ids);
  if (error instanceof HTTPException) {
    const code =
      CODE_OF_STATUS.get(error.status) ?? (error.status < 500 ? "bad_request" : "internal");
    return errorResponse(new ApiError(code, error.message || code.replace("_", " ")), ids);
  }
  log.error("unhandled error", {
    method: c.req.method,
    path: c.req.path,
    ...ids,
    error: errorFields(error),
  });
  return errorResponse(new ApiError("internal", "something went wrong on our side"), ids);
}

/** The request's ids, set by the telemetry middleware (absent outside the app, in a test). */
export function idsOf(c: Context): ErrorIds | undefined {
  const telemetry = c.get("telemetry") as RequestTelemetry | undefined;
  return telemetry && { requestId: telemetry.requestId, traceId: telemetry.traceId };
}
