import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type Refusal } from "../protocol/index.ts";

/** The one error type of the HTTP layer: thrown by handlers, rendered by `onError`. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  static from(refusal: Refusal): ApiError {
    return new ApiError(refusal.code, refusal.message);
  }

  getResponse(): Response {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (this.retryAfterSeconds !== undefined)
      headers["retry-after"] = String(this.retryAfterSeconds);
    return new Response(JSON.stringify(body), { status: ERROR_STATUS[this.code], headers });
  }
}

const CODE_OF_STATUS = Object.fromEntries(
  Object.entries(ERROR_STATUS).map(([code, status]) => [status, code]),
) as Record<number, ErrorCode | undefined>;

/** Maps anything thrown to the contract's error body; a client never sees a stack trace. */
export function renderError(error: unknown, c: Context): Response {
  if (error instanceof ApiError) return error.getResponse();
  if (error instanceof HTTPException) {
    const code = CODE_OF_STATUS[error.status] ?? (error.status < 500 ? "bad_request" : "internal");
    return new ApiError(code, error.message || code.replace("_", " ")).getResponse();
  }
  console.error(`edgechat: unhandled error on ${c.req.method} ${c.req.path}`, error);
  return new ApiError("internal", "something went wrong on our side").getResponse();
}
