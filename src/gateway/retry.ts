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
const NETWORK = /\b(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)\b/;

/**
 * A failure of the upstream itself (refused, reset, gone mid-stream), not an answer it gave:
 * connect-node reports those as `unavailable` or `aborted` with Node's error code in the message
 * or in the chain of causes.
 */
export function unreachable(error: unknown): boolean {
  const failed = ConnectError.from(error);
  if (failed.code !== Code.Unavailable && failed.code !== Code.Aborted) return false;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (NETWORK.test(cause.message) || (typeof code === "string" && NETWORK.test(code)))
      return true;
  }
  return false;
}
