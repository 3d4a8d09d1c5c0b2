import { LIMIT_ERROR_NAME } from "./names.ts";

/**
 * The budgets a plugin's code runs under inside its isolate (docs/plugins.md, "Isolation"), per
 * hook call: fuel (one unit per loop iteration and per function call, counted by the calls
 * instrument.ts put in), bytes allocated through the metered built-ins (allocation.ts), requests
 * sent: past any of them the plugin gets a `PluginLimit` error thrown where it stands, and the
 * call is reported as refused by a limit even if the plugin catches it. And per isolate, the bytes
 * it holds, as far as the allocation meter knows: an isolate that starts a call past that budget
 * is spent, and the runner replaces it before the plugin runs (the call is not lost).
 */
export type Budgets = {
  fuel: number;
  bytesPerCall: number;
  bytesPerIsolate: number;
  subrequests: number;
};

export const MiB = 1024 * 1024;

export const BUDGETS: Budgets = {
  fuel: 1_000_000,
  bytesPerCall: 32 * MiB,
  bytesPerIsolate: 64 * MiB,
  subrequests: 10,
};

/** How often (in fuel units) the guard looks at the clock: rare enough to cost nothing. */
const CLOCK_EVERY = 4096;

export class PluginLimit extends Error {
  constructor(message: string) {
    super(message);
    this.name = LIMIT_ERROR_NAME;
  }
}

export class Meter {
  readonly budgets: Budgets;
  readonly #now: () => number;
  #active = false;
  #fuel = 0;
  #bytes = 0;
  #live = 0;
  #subrequests = 0;
  #deadline = Infinity;
  #callId = "";
  /** The first limit this call ran into; once set, every guard throws it again until the next call. */
  #tripped: PluginLimit | undefined;
  #spent = false;

  constructor(budgets: Budgets, now: () => number) {
    this.budgets = budgets;
    this.#now = now;
  }

  /**
   * A hook call starts: full fuel, no bytes, no requests; `deadline` in the clock's ms. An isolate
   * that holds more than its budget now is spent for good (`spent`): the call should not run.
   */
  open(callId: string, deadline: number): void {
    if (this.#live > this.budgets.bytesPerIsolate) this.#spent = true;
    this.#active = true;
    this.#fuel = this.budgets.fuel;
    this.#bytes = 0;
    this.#subrequests = 0;
    this.#deadline = deadline;
    this.#callId = callId;
    this.#tripped = undefined;
  }

  /**
   * The call is over: the limit it ran into, if any. Until the next call the plugin has no fuel,
   * so that a timer or a promise left behind cannot run its code between calls. A call the
   * runner gave up on (its time was up) that ends during a later one closes nothing.
   */
  close(callId: string = this.#callId): PluginLimit | undefined {
    if (callId !== this.#callId) return undefined;
    const tripped = this.#tripped;
    this.#active = false;
    this.#fuel = 0;
    this.#tripped = undefined;
    return tripped;
  }

  get active(): boolean {
    return this.#active;
  }
  get callId(): string {
    return this.#callId;
  }
  /** Set once a call started with the isolate holding more than its budget; it stays so. */
  get spent(): boolean {
    return this.#spent;
  }
  /** Bytes the isolate holds, as far as the metered built-ins know. */
  get liveBytes(): number {
    return this.#live;
  }

  /** One unit of fuel: the instrumented code calls this at every loop iteration and function entry. */
  tick(): void {
    if (--this.#fuel >= 0) {
      // workerd's clock advances during synchronous work locally (not in production, where
      // cpuMs is the limit): a loop whose every iteration is costly stops at the deadline too.
      if (this.#fuel % CLOCK_EVERY === 0 && this.#now() > this.#deadline) {
        this.#trip("ran past its hook's time budget without yielding");
      }
      return;
    }
    this.#fuel = 0;
    this.#trip(
      this.#active
        ? `ran more than ${this.budgets.fuel} loop iterations and function calls in one hook call`
        : "plugin code ran outside a hook call (a timer or a promise left behind)",
    );
  }

  /** `bytes` about to be allocated; throws instead when they are past a budget. */
  charge(bytes: number): void {
    if (!(bytes > 0)) return;
    if (!this.#active) this.#trip("plugin code allocated outside a hook call");
    if (this.#tripped) throw this.#tripped;
    if (this.#bytes + bytes > this.budgets.bytesPerCall) {
      this.#trip(`allocated more than ${this.budgets.bytesPerCall / MiB} MiB in one hook call`);
    }
    this.#bytes += bytes;
    this.#live += bytes;
  }

  /** Bytes the garbage collector took back (allocation.ts's FinalizationRegistry). */
  credit(bytes: number): void {
    this.#live = Math.max(0, this.#live - bytes);
  }

  /** One outgoing request about to be sent. */
  subrequest(): void {
    if (!this.#active) this.#trip("plugin code sent a request outside a hook call");
    if (this.#tripped) throw this.#tripped;
    if (++this.#subrequests > this.budgets.subrequests) {
      this.#trip(`sent more than ${this.budgets.subrequests} requests in one hook call`);
    }
  }

  #trip(reason: string): never {
    this.#tripped ??= new PluginLimit(reason);
    throw this.#tripped;
  }
}
