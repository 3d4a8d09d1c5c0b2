import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, ERROR_STATUS, ErrorCode, type ErrorBody } from "../protocol/index.ts";

export { ApiError };

/** The contract's error body for `error`, with Retry-After when it says when to try again. */
export function errorResponse(error: ApiError): Response {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (error.retryAfter !== undefined) headers["retry-after"] = String(Math.ceil(error.retryAfter));
  return new Response(JSON.stringify(body), { status: ERROR_STATUS[error.code], headers });
}

// The first code of a status names it (503 is `unavailable`; `overloaded` is only ever meant).
const CODE_OF_STATUS = new Map<number, ErrorCode>(
  ErrorCode.options.toReversed().map((code) => [ERROR_STATUS[code], code]),
);

/** Maps anything thrown to the contract's error body; a client never sees a stack trace. */
export function renderError(error: unknown, c: Context): Response {
  if (error instanceof ApiError) return errorResponse(error);
  if (error instanceof HTTPException) {
    const code =
      CODE_OF_STATUS.get(error.status) ?? (error.status < 500 ? "bad_request" : "internal");
    return errorResponse(new ApiError(code, error.message || code.replace("_", " ")));
  }
  console.error(`edgechat: unhandled error on ${c.req.method} ${c.req.path}`, error);
  return errorResponse(new ApiError("internal", "something went wrong on our side"));
}
