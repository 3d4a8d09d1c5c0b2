import { CLOSE, type ClientFrame, type ServerFrameOf } from "../protocol/index.ts";
import { clientIdOfFrame, parseFrame } from "./inbound.ts";
import { COMMAND_RATE, Limiter, MALFORMED_RATE, REJECTED_RATE, REPORT_RATE } from "./rate-limit.ts";

/** A `received` report as the SDK writes it: told apart before parsing, so it is cheap either way. */
const REPORT = /^\{"type":"received","seq":\d{1,16}\}$/;

/** What to do with one incoming frame. */
export type Verdict =
  | { kind: "frame"; frame: ClientFrame }
  | { kind: "refuse"; error: ServerFrameOf<"error"> }
  | { kind: "close"; code: number; reason: string }
  | { kind: "drop" };

/**
 * Every frame passes here before the room looks at it: the per-connection rate limit, then
 * parsing against the contract, with the abuse thresholds that close a connection (4429 for
 * going on past the limit, 4400 for a stream of malformed frames). Pure apart from its
 * in-memory buckets, which hibernation resets (that only forgives).
 */
export class FrameGate {
  readonly #commands = new Limiter(COMMAND_RATE);
  readonly #malformed = new Limiter(MALFORMED_RATE);
  readonly #rejected = new Limiter(REJECTED_RATE);
  readonly #reports = new Limiter(REPORT_RATE);

  admit(connId: string, data: string | ArrayBuffer, now: number): Verdict {
    // Reports have a bucket of their own: they must not cost the sender its commands, and too
    // many of them are simply dropped (they only say how far the client has read).
    if (typeof data === "string" && REPORT.test(data))
      return this.#reports.allow(connId, now) ? this.#parsed(connId, data, now) : { kind: "drop" };
    if (!this.#commands.allow(connId, now)) {
      if (!this.#rejected.allow(connId, now))
        return { kind: "close", code: CLOSE.rateAbuse, reason: "too many frames" };
      // With the clientId and the wait, an SDK can send the command again when a token is back.
      const error = {
        type: "error",
        code: "rate_limited",
        message: "slow down: at most 20 commands a second",
        retryAfterMs: this.#commands.waitMs(connId, now),
      } as const;
      return { kind: "refuse", error: { ...error, ...clientIdOfFrame(data) } };
    }
    return this.#parsed(connId, data, now);
  }

  /** Parsing against the contract, with the threshold for a stream of malformed frames. */
  #parsed(connId: string, data: string | ArrayBuffer, now: number): Verdict {
    const inbound = parseFrame(data);
    if (inbound.ok) return { kind: "frame", frame: inbound.frame };
    if (!this.#malformed.allow(connId, now)) {
      return { kind: "close", code: CLOSE.protocolAbuse, reason: "too many malformed frames" };
    }
    const { ok: _, ...error } = inbound;
    return { kind: "refuse", error: { type: "error", ...error } };
  }

  /** Drops a closed connection's buckets. */
  forget(connId: string): void {
    this.#commands.forget(connId);
    this.#malformed.forget(connId);
    this.#rejected.forget(connId);
    this.#reports.forget(connId);
  }
}
