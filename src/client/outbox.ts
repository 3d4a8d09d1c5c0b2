import type { Command } from "../protocol/index.ts";

import { backoffDelay } from "./backoff.ts";

type Pending = {
  frame: Command;
  resolve: (seq: number) => void;
  reject: (error: Error) => void;
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
 * Commands sent but not yet acknowledged, oldest first. They are resent with the same
 * clientId after a reconnect; the server's idempotency makes the resend safe.
 */
export class Outbox {
  #pending = new Map<string, Pending>();

  /** Keeps `frame` until its ack or refusal; the promise gives the seq of its event. */
  add(frame: Command): Promise<number> {
    const existing = this.#pending.get(frame.clientId);
    if (existing)
      return Promise.reject(
        new CommandError("bad_request", "clientId already pending", frame.clientId),
      );
    return new Promise((resolve, reject) =>
      this.#pending.set(frame.clientId, { frame, resolve, reject, overloads: 0 }),
    );
  }

  ack(clientId: string, seq: number): boolean {
    const entry = this.#take(clientId);
    entry?.resolve(seq);
    return entry !== undefined;
  }

  refuse(clientId: string, code: string, message: string): boolean {
    const entry = this.#take(clientId);
    entry?.reject(new CommandError(code, message, clientId));
    return entry !== undefined;
  }

  /**
   * The room was too busy for a pending command: it stays, and goes again after at least what
   * the server asked, backing off further each time, with jitter so that refused clients do not
   * come back together. Undefined when no such command is pending.
   */
  retryAfterOverload(
    clientId: string,
    askedMs: number,
  ): { frame: Command; waitMs: number } | undefined {
    const entry = this.#pending.get(clientId);
    if (!entry) return undefined;
    const waitMs = askedMs + backoffDelay(entry.overloads++, { baseMs: askedMs, maxMs: 10_000 });
    return { frame: entry.frame, waitMs };
  }

  /** Whether `frame` is still waiting for its ack. */
  holds(frame: Command): boolean {
    return this.#pending.get(frame.clientId)?.frame === frame;
  }

  /** Rejects every pending command, for a client that gives up for good. */
  failAll(code: string, message: string): void {
    for (const clientId of [...this.#pending.keys()]) this.refuse(clientId, code, message);
  }

  frames(): Command[] {
    return [...this.#pending.values()].map((p) => p.frame);
  }

  get size(): number {
    return this.#pending.size;
  }

  #take(clientId: string): Pending | undefined {
    const entry = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    return entry;
  }
}
