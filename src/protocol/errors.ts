import * as z from "zod";

/** Every error code of the contract and its HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  /** Addition (docs/attachments.md): the bytes are not of a type that is accepted there. */
  unsupported_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  /** Addition to v1: the room has more work queued than it can do in time; retry after a while. */
  overloaded: 503,
  /**
   * Addition to v1: a standing cap is reached (rooms owned, open sockets): it lifts when
   * something is given up, not with time (docs/limits.md).
   */
  quota: 403,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/** The one shape of every non-2xx HTTP body. */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    /** The request's id, as in its `x-request-id` header and the worker's log line. */
    requestId: z.string().optional(),
    /** The request's trace id (W3C, 32 hex digits), when tracing is on. */
    traceId: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * An expected failure, returned (not thrown) by rules and Durable Object methods; `retryAfter`
 * (seconds, maybe fractional) when waiting helps: HTTP sends it rounded up as Retry-After.
 */
export type Refusal = { code: ErrorCode; message: string; retryAfter?: number };
export type Result<T> = { ok: true; value: T } | { ok: false; error: Refusal };

/**
 * The contract's error as an exception: the worker's handlers throw it and render it as the
 * error body; the SDK throws it for every non-2xx answer.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status: the code's own, or what the server answered. */
  readonly status: number;
  /** Seconds to wait before trying again (Retry-After), when the server said. */
  readonly retryAfter: number | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; retryAfter?: number | undefined } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.retryAfter = options.retryAfter;
  }

  static from(refusal: Refusal): ApiError {
    return new ApiError(refusal.code, refusal.message, { retryAfter: refusal.retryAfter });
  }
}
