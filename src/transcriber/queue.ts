/**
 * At most `running` jobs at once (one per core: a pocketsphinx job takes a core), and at most
 * `waiting` more in line; a job beyond that is refused at once (`QueueFull`), so a burst gets a
 * clear "come back later" instead of a growing backlog. A job given up by its caller (its signal
 * aborted) while it waits leaves the line.
 */
export class QueueFull extends Error {
  constructor() {
    super("the transcriber is busy");
    this.name = "QueueFull";
  }
}

/** Called with the slot already counted for it. */
type Waiter = () => void;

export class JobQueue {
  readonly #limit: number;
  readonly #maxWaiting: number;
  #running = 0;
  readonly #line: Waiter[] = [];

  constructor(options: { running: number; waiting: number }) {
    if (!(options.running >= 1) || !(options.waiting >= 0))
      throw new Error("a queue runs at least one job and has a line of zero or more");
    this.#limit = options.running;
    this.#maxWaiting = options.waiting;
  }

  get running(): number {
    return this.#running;
  }
  get waiting(): number {
    return this.#line.length;
  }

  /** Runs `job` when a slot is free; throws `QueueFull`, or the signal's reason if given up. */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#running >= this.#limit) await this.#wait(signal);
    else this.#running++;
    try {
      return await job();
    } finally {
      this.#release();
    }
  }

  /** Waits for a slot; the slot is taken (counted) for us before we are woken. */
  #wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.#line.length >= this.#maxWaiting) throw new QueueFull();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#line.indexOf(waiter);
        if (at >= 0) this.#line.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#line.push(waiter);
    });
  }

  #release(): void {
    const next = this.#line.shift();
    if (next) next();
    else this.#running--;
  }
}
