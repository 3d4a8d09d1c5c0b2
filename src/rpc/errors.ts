import { Code, ConnectError } from "@connectrpc/connect";
import { ApiError, type ErrorCode, type Refusal } from "../protocol/index.ts";

/**
 * The RPC status code of each of the contract's error codes (docs/rpc.md, "Errors"). Several
 * contract codes share one RPC code; the contract's own code travels beside it in
 * ERROR_CODE_HEADER, so that no client has to guess.
 */
export const RPC_CODE = {
  bad_request: Code.InvalidArgument,
  unauthorized: Code.Unauthenticated,
  forbidden: Code.PermissionDenied,
  not_found: Code.NotFound,
  // Most conflicts are a state the caller must change first (banned, redacted, changed since);
  // "already exists" is the special case, and retrying as is never helps either way.
  conflict: Code.FailedPrecondition,
  // What Connect itself answers for a message over readMaxBytes, so both read alike.
  too_large: Code.ResourceExhausted,
  unsupported_type: Code.InvalidArgument,
  rate_limited: Code.ResourceExhausted,
  quota: Code.ResourceExhausted,
  overloaded: Code.Unavailable,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
} as const satisfies Record<ErrorCode, Code>;

/** Metadata (a header, or a trailer on streams and gRPC-web) naming the contract's error code. */
export const ERROR_CODE_HEADER = "edgechat-error-code";
/** Metadata with the seconds to wait before trying again, rounded up, as REST's Retry-After. */
export const RETRY_AFTER_HEADER = "retry-after";

/** The message of every unexpected error: what went wrong is logged, never sent. */
export const INTERNAL_MESSAGE = "something went wrong on our side";

/** A refusal of the contract as an RPC error: its mapped code, its message and its metadata. */
export function refusalToConnectError(refusal: Refusal): ConnectError {
  const metadata = new Headers({ [ERROR_CODE_HEADER]: refusal.code });
  if (refusal.retryAfter !== undefined)
    metadata.set(RETRY_AFTER_HEADER, String(Math.ceil(refusal.retryAfter)));
  return new ConnectError(refusal.message, RPC_CODE[refusal.code], metadata);
}

/**
 * Anything an implementation threw, as the error the client gets: an RPC error as it is, the
 * contract's ApiError mapped, and anything else `internal` with a fixed message, handed to
 * `report` (the log) so that its message and stack stay on the server.
 */
export function toConnectError(thrown: unknown, report: (error: unknown) => void): ConnectError {
  if (thrown instanceof ConnectError) return thrown;
  if (thrown instanceof ApiError)
    return refusalToConnectError({
      code: thrown.code,
      message: thrown.message,
      retryAfter: thrown.retryAfter,
    });
  report(thrown);
  return new ConnectError(
    INTERNAL_MESSAGE,
    Code.Internal,
    new Headers({ [ERROR_CODE_HEADER]: "internal" }),
  );
}
