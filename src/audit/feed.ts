import type { AuditEntryInput } from "../protocol/index.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** The name of the one InstanceAudit object, which holds the instance's audit log. */
export const INSTANCE_AUDIT_NAME = "instance";

/** Entries per call at most: a burst of moderation goes in a few calls, not one per event. */
const MAX_BATCH = 200;
const RETRIES = 3;

/**
 * Hands entries to the instance audit log off the caller's path: one call at a time, entries
 * that come meanwhile join the next call, a failed call is retried a few times (the entries'
 * `ref` makes a resend harmless), then given up with a warning. Callers with nothing to record
 * cost nothing: an empty list sends no call.
 */
export class InstanceAuditFeed {
  readonly #send: (entries: AuditEntryInput[]) => Promise<unknown>;
  readonly #keepAlive: (work: Promise<unknown>) => void;
  readonly #retryMs: number;
  #pending: AuditEntryInput[] = [];
  #busy = false;

  constructor(
    send: (entries: AuditEntryInput[]) => Promise<unknown>,
    keepAlive: (work: Promise<unknown>) => void,
    retryMs = 100,
  ) {
    this.#send = send;
    this.#keepAlive = keepAlive;
    this.#retryMs = retryMs;
  }

  record(entries: readonly AuditEntryInput[]): void {
    if (entries.length === 0) return;
    this.#pending.push(...entries);
    if (!this.#busy) this.#keepAlive(this.#drain());
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#pending.length > 0) await this.#deliver(this.#pending.splice(0, MAX_BATCH));
    } finally {
      this.#busy = false;
    }
  }

  async #deliver(batch: AuditEntryInput[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#send(batch);
        return;
      } catch (error) {
        if (attempt >= RETRIES) {
          log.warn("audit entries not recorded", {
            entries: batch.length,
            error: errorFields(error),
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.#retryMs * 2 ** attempt));
      }
    }
  }
}
