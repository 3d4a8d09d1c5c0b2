import type { Command, Refusal, Result, RoomEvent } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { decide, denyAccess, NO_SUCH_ROOM } from "./decide.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import type { EventLog } from "./log.ts";
import type { ReadModel } from "./read-model.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** A command on its way through the room: from a socket (acked there) or over HTTP (settled). */
export type Job = {
  readonly command: Command;
  readonly actor: Actor;
  readonly ws?: WebSocket | undefined;
  readonly settle?: ((result: Result<{ seq: number }>) => void) | undefined;
  /** The W3C `traceparent` of the caller's span (the worker's request or RPC), when it sent one. */
  readonly traceparent?: string | undefined;
  /** The id of the request it came in (or of the upgrade that opened its socket): for logs. */
  readonly requestId?: string | undefined;
  /** Told the outcome once the command is answered: its span and log line (telemetry.ts). */
  readonly finished?: ((result: Result<{ seq: number }>) => void) | undefined;
};

/** What became of a job: its result, and the events it stored (none for a repeat or a no-op). */
export type Outcome = { job: Job; result: Result<{ seq: number }>; stored: RoomEvent[] };

const broken: Refusal = { code: "internal", message: "something went wrong on our side" };

/**
 * Writes a batch of commands in one transaction (one commit, one trip to disk), each decided
 * against the state its predecessors left, in order, with its own seq, idempotency key and
 * result. A command whose write throws is rolled back alone: the batch goes again with a
 * savepoint per command (rare, so the common path pays for none). If the commit itself fails,
 * every command of the batch is answered `internal` and nothing is stored.
 */
export class CommandBatch {
  readonly #storage: DurableObjectStorage;
  readonly #log: EventLog;
  readonly #read: ReadModel;
  readonly #keys: IdempotencyKeys;

  constructor(
    storage: DurableObjectStorage,
    log: EventLog,
    read: ReadModel,
    keys: IdempotencyKeys,
  ) {
    this.#storage = storage;
    this.#log = log;
    this.#read = read;
    this.#keys = keys;
  }

  write(jobs: readonly Job[], now: number): Outcome[] {
    return (
      this.#transaction(jobs, (job) => this.#apply(job, now)) ??
      this.#transaction(jobs, (job) => this.#isolated(job, now)) ??
      jobs.map((job) => ({ job, result: { ok: false, error: broken }, stored: [] }))
    );
  }

  /** The jobs in one transaction; undefined (and nothing stored) if any of it throws. */
  #transaction(jobs: readonly Job[], run: (job: Job) => Outcome): Outcome[] | undefined {
    try {
      const outcomes = this.#storage.transactionSync(() => jobs.map(run));
      this.#log.committed();
      return outcomes;
    } catch (error) {
      this.#log.rollBackTo();
      log.error("a batch of commands failed to commit", { error: errorFields(error) });
      return undefined;
    }
  }

  /** One job inside a savepoint of its own: if it throws, it alone is undone and refused. */
  #isolated(job: Job, now: number): Outcome {
    const mark = this.#log.mark();
    try {
      return this.#storage.transactionSync(() => this.#apply(job, now));
    } catch (error) {
      this.#log.rollBackTo(mark);
      log.error("a command failed", {
        type: job.command.type,
        traceparent: job.traceparent,
        error: errorFields(error),
      });
      return { job, result: { ok: false, error: broken }, stored: [] };
    }
  }

  /** Access → idempotency → the rules → append, with the key holding the seq the append took. */
  #apply(job: Job, now: number): Outcome {
    const { command, actor } = job;
    const refused = (error: Refusal): Outcome => ({
      job,
      result: { ok: false, error },
      stored: [],
    });
    const view = this.#read.view();
    if (!view) return refused(NO_SUCH_ROOM);
    // Before the idempotency lookup: a replayed clientId must not be acked to someone who lost
    // access (a banned user, or anyone outside a private room, to whom it does not exist).
    const denied = denyAccess(view, actor);
    if (denied) return refused(denied);
    const prior = this.#keys.find(actor.id, command.clientId, now);
    if (prior !== undefined)
      return { job, result: { ok: true, value: { seq: prior } }, stored: [] };
    const decision = decide(command, actor, view, now);
    if (!decision.ok) return refused(decision.error);
    const stored = this.#log.append(decision.events, actor, now);
    const seq = stored.at(-1)?.seq ?? this.#log.headSeq;
    this.#keys.remember(actor.id, command.clientId, seq, now);
    return { job, result: { ok: true, value: { seq } }, stored };
  }
}
