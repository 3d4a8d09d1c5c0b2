import {
  COMMAND_RATE,
  take,
  tokenWaitMs,
  type Bucket,
  type Command,
  type Rate,
} from "../protocol/index.ts";

import { backoffDelay } from "./backoff.ts";

type Pending = {
  frame: Command;
  resolve: (seq: number) => void;
  reject: (error: Error) => void;
  /** Written on the current socket and not answered yet. */
  sent: boolean;
  /** How often the room refused it as overloaded so far. */
  overloads: number;
};

/** A command the server refused; `code` is one of the contract's error codes. */
export class CommandError extends Error {
  readonly code: string;
  readonly clientId: string | undefined;
  constructor(code: string, message: string, clientId?: string) {
    super(message);
    this.name = "CommandError";
    this.code = code;
    this.clientId = clientId;
  }
}

/**
 * Commands waiting for the room longer than this many are refused at once (`overloaded`) rather
 * than queued in the client without end: the room has been pushing back, and the app should know.
 */
export const MAX_PENDING_COMMANDS = 500;

/**
 * Commands on their way at most: half the contract's burst of 40. After a push-back the window
 * starts again at one and grows by one with each ack (TCP's slow start, in commands), so that
 * what waited during a hold goes out at the pace the room answers instead of all at once.
 */
export const MAX_IN_FLIGHT = 20;

/**
 * The pace commands leave at: under the contract's 20 a second, bursts of 40 (COMMAND_RATE), with
 * room for frames that the network delivers closer together than they were sent. A well-behaved
 * client then never meets the rate limit, whose refusals also count towards closing with 4429.
 */
export const SEND_RATE: Rate = {
  perSecond: COMMAND_RATE.perSecond - 1,
  burst: COMMAND_RATE.burst - 10,
};

/**
 * Commands not yet acknowledged, oldest first: each either sent on the current socket or waiting
 * to be (before the welcome, or while the room asked to hold off). They go again with the same
 * clientId after a reconnect; the server's idempotency makes the resend safe.
 */
export class Outbox {
  readonly #pending = new Map<string, Pending>();
  readonly #max: number;
  #inFlight = 0;
  #window = MAX_IN_FLIGHT;
  #tokens: Bucket | undefined;

  constructor(max = MAX_PENDING_COMMANDS) {
    this.#max = max;
  }

  /** Keeps `frame` until its ack or refusal; the promise gives the seq of its event. */
  add(frame: Command): Promise<number> {
    const refuse = (code: string, message: string) =>
      Promise.reject(new CommandError(code, message, frame.clientId));
    if (this.#pending.has(frame.clientId)) return refuse("bad_request", "clientId already pending");
    if (this.#pending.size >= this.#max)
      return refuse("overloaded", `${this.#max} commands are already waiting for the room`);
    return new Promise((resolve, reject) =>
      this.#pending.set(frame.clientId, { frame, resolve, reject, sent: false, overloads: 0 }),
    );
  }

  ack(clientId: string, seq: number): boolean {
    const entry = this.#take(clientId);
    if (entry) this.#window = Math.min(MAX_IN_FLIGHT, this.#window + 1);
    entry?.resolve(seq);
    return entry !== undefined;
  }

  refuse(clientId: string, code: string, message: string): boolean {
    const entry = this.#take(clientId);
    entry?.reject(new CommandError(code, message, clientId));
    return entry !== undefined;
  }

  /**
   * The room was too busy for a pending command (`overloaded`, or `rate_limited` with a wait):
   * it waits to go again, and the client holds off for at least what the server asked, longer
   * each time the same command is refused, with jitter so that refused clients do not come back
   * together. Returns that wait; undefined when the command is not pending.
   */
  pushedBack(clientId: string, askedMs: number): number | undefined {
    const entry = this.#pending.get(clientId);
    if (!entry) return undefined;
    this.#unsend(entry);
    this.#window = 1;
    return askedMs + backoffDelay(entry.overloads++, { baseMs: askedMs, maxMs: 10_000 });
  }

  /**
   * The commands to write at `now`, oldest first, as many as the window and SEND_RATE allow;
   * counted as sent.
   */
  takeUnsent(now: number): Command[] {
    const taken: Command[] = [];
    for (const entry of this.#pending.values()) {
      if (this.#inFlight >= this.#window) break;
      if (entry.sent) continue;
      const token = take(this.#tokens, SEND_RATE, now);
      if (!token.allowed) break;
      this.#tokens = token.bucket;
      entry.sent = true;
      this.#inFlight += 1;
      taken.push(entry.frame);
    }
    return taken;
  }

  /** When commands wait for a token alone (the window has room): how long until the next one. */
  paceMs(now: number): number {
    const waiting = this.#inFlight < this.#window && this.#inFlight < this.#pending.size;
    return waiting ? tokenWaitMs(this.#tokens, SEND_RATE, now) : 0;
  }

  /** A new socket: nothing is on it yet, so every pending command waits to be written again. */
  unsendAll(): void {
    for (const entry of this.#pending.values()) entry.sent = false;
    this.#inFlight = 0;
  }

  /** Rejects every pending command, for a client that gives up for good. */
  failAll(code: string, message: string): void {
    for (const clientId of [...this.#pending.keys()]) this.refuse(clientId, code, message);
  }

  get size(): number {
    return this.#pending.size;
  }

  #take(clientId: string): Pending | undefined {
    const entry = this.#pending.get(clientId);
    if (entry) this.#unsend(entry);
    this.#pending.delete(clientId);
    return entry;
  }

  #unsend(entry: Pending): void {
    if (entry.sent) this.#inFlight -= 1;
    entry.sent = false;
  }
}
