import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../protocol/errors.ts";

/**
 * A refusal of the service, answered as the contract's error body (`{error: {code, message}}`)
 * with the code's status: the message says what was wrong with the request, never how the
 * service failed inside.
 */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds, sent as Retry-After. */
  readonly retryAfterS: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterS?: number) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfterS = retryAfterS;
  }

  get body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
