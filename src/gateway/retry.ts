import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Whether a call may be sent again to another upstream: only a method the .proto declares free
 * of side effects or idempotent (the commands are, by their client_id), and only after a failure
 * that says the upstream did not answer, never after an answer (a room's `overloaded` is one).
 */
export function retriable(method: DescMethod, error: unknown): boolean {
  if (method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN) return false;
  return unreachable(error);
}

/** The network's failures, as Node names them: the upstream was not there to answer. */
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

/** A failure of the upstream itself (refused, reset, gone mid-stream), not an answer it gave. */
export function unreachable(error: unknown): boolean {
  if (
    ConnectError.from(error).code !== Code.Unavailable &&
    ConnectError.from(error).code !== Code.Internal
  )
    return false;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause)
    if (NETWORK.has(String((cause as { code?: unknown }).code))) return true;
  return false;
}
