import type { Command, NewEvent, Result, RoomEvent, UserRef } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import type { Audience, Deliveries } from "./audience.ts";
import { CommandBatch, type Job, type Outcome } from "./command-batch.ts";
import { GroupCommit, type QueueLimits } from "./group-commit.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import type { EventLog } from "./log.ts";
import type { ReadModel } from "./read-model.ts";
import type { RoomMetrics } from "./room-metrics.ts";
import { send } from "./sockets.ts";

export type CommandFlowParts = {
  storage: DurableObjectStorage;
  log: EventLog;
  read: ReadModel;
  keys: IdempotencyKeys;
  audience: Audience;
  limits: QueueLimits;
  /** How late the room's events reach its clients now (delivery-lag.ts). */
  deliveryLagMs: (now: number) => number;
  /** How many commands one turn may take (see GroupCommit.boundTurns). */
  turnSize: () => number;
  /** After every commit: what the events cause beyond the log (removals, flush, directory). */
  committed: (stored: readonly RoomEvent[], now: number, keysStored: boolean) => void;
  /** At a command's arrival: what to tell of its outcome (its span and log line). */
  observe?: (job: Job) => (result: Result<{ seq: number }>) => void;
  /** Commands by outcome and their commit latency. */
  metrics: RoomMetrics;
  /** The plugins' before-commit hooks (plugins.ts), when the room has any plugin on. */
  screen?: Screen;
};

/** What a command goes through before it is queued: a plugin may rewrite or refuse it. */
export type Screen = {
  readonly any: boolean;
  screen(command: Command, actor: Actor): Promise<Result<Command>>;
};

/**
 * The room's write path. Commands go through the group commit (a queue, one transaction per
 * turn, backpressure); every commit is then sent to the audience (the output gate holds it until
 * the commit is durable: an ack means stored), refusals and HTTP callers are answered.
 */
export class CommandFlow {
  readonly #parts: CommandFlowParts;
  readonly #batch: CommandBatch;
  readonly #commits: GroupCommit<Job>;
  /** When each queued job arrived, for the commit latency. */
  readonly #arrivals = new WeakMap<Job, number>();
  /** The jobs of the batch being made durable. */
  #committing: readonly Job[] = [];
  /** Each sender's last command in the plugins' screening: the next one waits for it. */
  readonly #screening = new Map<string, Promise<unknown>>();

  constructor(parts: CommandFlowParts) {
    this.#parts = parts;
    this.#batch = new CommandBatch(parts.storage, parts.log, parts.read, parts.keys);
    this.#commits = new GroupCommit(
      (jobs) => this.#commitBatch(jobs),
      () => this.#settled(),
      parts.limits,
    );
    this.#commits.boundTurns(parts.turnSize);
  }

  /**
   * Into the queue, or refused at once when the room is too far behind. With plugins on, through
   * their before-commit hooks first: each sender's commands one after another, so that a slow
   * hook never lets a sender's later command overtake an earlier one.
   */
  submit(arrived: Job): void {
    const screen = this.#parts.screen;
    if (!screen?.any && !this.#screening.has(arrived.actor.id)) return this.#queue(arrived);
    const sender = arrived.actor.id;
    const turn = (this.#screening.get(sender) ?? Promise.resolve()).then(async () => {
      const screened = screen ? await screen.screen(arrived.command, arrived.actor) : undefined;
      if (!screened || screened.ok)
        this.#queue(screened ? { ...arrived, command: screened.value } : arrived);
      else this.#answer(arrived, screened);
    });
    // A hook that threw past the runner's guard: the command is answered, never left hanging.
    const tail = turn.catch(() =>
      this.#answer(arrived, { ok: false, error: { code: "internal", message: "internal error" } }),
    );
    this.#screening.set(sender, tail);
    void tail.then(() => {
      if (this.#screening.get(sender) === tail) this.#screening.delete(sender);
    });
  }

  #queue(arrived: Job): void {
    const job = { ...arrived, finished: this.#parts.observe?.(arrived) };
    const now = Date.now();
    this.#arrivals.set(job, now);
    const admitted = this.#commits.offer(job, now, this.#parts.deliveryLagMs(now));
    if (admitted.ok) return;
    const seconds = admitted.retryAfterMs / 1000;
    this.#answer(job, {
      ok: false,
      error: {
        code: "overloaded",
        message: `the room is busy: try again in ${seconds.toFixed(1)} s`,
        retryAfter: seconds,
      },
    });
  }

  /** Events that need no queue (a room created, someone joining): one transaction of their own. */
  commit(events: readonly NewEvent[], actor: UserRef): void {
    const { storage, log, audience } = this.#parts;
    const now = Date.now();
    let stored: RoomEvent[];
    try {
      stored = storage.transactionSync(() => log.append(events, actor, now));
    } catch (error) {
      log.rollBackTo();
      throw error;
    }
    log.committed();
    this.#delivered(audience.deliver(stored));
    this.#parts.committed(stored, now, false);
  }

  #delivered(deliveries: Deliveries): void {
    for (const [transport, sent] of Object.entries(deliveries))
      this.#parts.metrics.count("deliveries_total", { transport }, sent);
  }

  #answer(job: Job, result: Result<{ seq: number }>): void {
    const outcome = result.ok ? "ok" : result.error.code;
    this.#parts.metrics.count("commands_total", { type: job.command.type, outcome });
    answer(job, result);
  }

  #commitBatch(jobs: Job[]): void {
    const now = Date.now();
    const outcomes = this.#batch.write(jobs, now);
    const stored = outcomes.flatMap((outcome) => outcome.stored);
    this.#delivered(this.#parts.audience.deliver(stored, acksBySocket(outcomes)));
    for (const outcome of outcomes) this.#answer(outcome.job, outcome.result);
    this.#committing = jobs;
    this.#parts.committed(
      stored,
      now,
      outcomes.some((outcome) => outcome.result.ok),
    );
  }

  /**
   * Resolves once the last batch is durable and the room has read what arrived meanwhile: the
   * commands that came in during the commit form the next batch. Locally the commit blocks the
   * thread, so one macrotask lets the runtime hand over the frames that queued up behind it.
   */
  async #settled(): Promise<void> {
    await this.#parts.storage.sync();
    const durable = Date.now();
    for (const job of this.#committing) {
      const arrived = this.#arrivals.get(job);
      if (arrived !== undefined)
        this.#parts.metrics.observe("commit_duration_seconds", {}, (durable - arrived) / 1000);
    }
    this.#committing = [];
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

function acksBySocket(outcomes: readonly Outcome[]): Map<WebSocket, string[]> {
  const acks = new Map<WebSocket, string[]>();
  for (const { job, result } of outcomes) {
    if (!result.ok || !job.ws) continue;
    const ack = JSON.stringify({
      type: "ack",
      clientId: job.command.clientId,
      seq: result.value.seq,
    });
    acks.set(job.ws, [...(acks.get(job.ws) ?? []), ack]);
  }
  return acks;
}

/** The outcome to whoever sent the command: the HTTP caller, or an error frame on its socket (acks went with the events). */
function answer(job: Job, result: Result<{ seq: number }>): void {
  job.finished?.(result);
  job.settle?.(result);
  if (result.ok || !job.ws) return;
  const { code, message, retryAfter } = result.error;
  send(job.ws, {
    type: "error",
    code,
    message,
    clientId: job.command.clientId,
    ...(retryAfter === undefined ? {} : { retryAfterMs: Math.round(retryAfter * 1000) }),
  });
}
