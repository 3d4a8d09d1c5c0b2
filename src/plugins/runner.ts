import * as z from "zod";
import type {
  CommandCall,
  CommandReply,
  Draft,
  PluginAction,
  PluginEvent,
  Verdict,
} from "./api.ts";
import type { OutboundProps } from "./outbound.ts";
import {
  ActionsAnswer,
  CommandAnswer,
  outcomeOf,
  VerdictAnswer,
  type Outcome,
  type Settled,
} from "./outcomes.ts";
import type {
  CallInfo,
  SandboxEntrypoint,
  SandboxProps,
  SandboxResult,
} from "./sandbox/contract.ts";
import { BUDGETS } from "./sandbox/meter.ts";
import { COMPATIBILITY_DATE, MAIN_MODULE, PLUGIN_MODULE, RUNTIME_MODULE } from "./sandbox/names.ts";
import { SANDBOX_MAIN, SANDBOX_RUNTIME } from "./sandbox-modules.ts";
import type { StoreProps } from "./store.ts";
import { afterCall, isSuspended, NO_STRIKES, STRIKES, type Strikes } from "./strikes.ts";

/**
 * Runs plugins for one room (docs/plugins.md): each plugin version in a Dynamic Worker of its own
 * for this room (`env.LOADER.get("<id>@<version>:<room>", …)`), with no network unless it was
 * granted hosts, its own store, and the production limits. Every call is raced against a
 * wall-clock budget, so the room never waits longer than that for a plugin, whatever the plugin
 * does; calls to one plugin run one at a time, in order. What became of each call is an
 * `Outcome`; a plugin that fails `STRIKES.failuresInARow` times in a row is suspended here for a
 * while (strikes.ts).
 */

/** What production enforces on each sandbox (not enforced by workerd under `wrangler dev`). */
export const PRODUCTION_LIMITS = { cpuMs: 50, subRequests: BUDGETS.subrequests } as const;

export type Hook = "describe" | "beforeCommit" | "afterEvent" | "command" | "job";

/**
 * Wall-clock budgets, ms: a post waits for before-commit hooks, so theirs is short; a person
 * waits for a command's answer; nobody waits for an event's or a job's actions, which may fetch
 * (the link unfurler gives each page 2 s).
 */
export const WALL_MS: Record<Hook, number> = {
  describe: 2000,
  beforeCommit: 250,
  afterEvent: 5000,
  command: 2000,
  job: 5000,
};

/** One installed plugin version, as the runner needs it: the hosts its admin granted. */
export type PluginRef = { id: string; version: string; hosts: readonly string[] };

/** The worker's own entrypoints that sandboxes get as capabilities (`ctx.exports`). */
export type SandboxExports = {
  PluginOutbound(options: { props: OutboundProps }): Fetcher;
  PluginStore(options: { props: StoreProps }): Fetcher;
};

export type RunnerDeps = {
  loader: WorkerLoader;
  exports: SandboxExports;
  room: string;
  /** The plugin version's instrumented code (the registry's). */
  code(ref: PluginRef): Promise<string>;
  now?: () => number;
  wallMs?: Partial<Record<Hook, number>>;
};

export class PluginRunner {
  readonly #deps: RunnerDeps;
  readonly #now: () => number;
  readonly #wallMs: Record<Hook, number>;
  readonly #strikes = new Map<string, Strikes>();
  /** A spent isolate's replacement number, by `<id>@<version>`. */
  readonly #generations = new Map<string, number>();
  /** The last call of each plugin, settled or timed out: the next one starts after it. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#wallMs = { ...WALL_MS, ...deps.wallMs };
  }

  beforeCommit(ref: PluginRef, draft: Draft): Promise<Outcome<Verdict>> {
    return this.#call(ref, "beforeCommit", VerdictAnswer, (sandbox, call) =>
      sandbox.beforeCommit(call, draft),
    );
  }

  afterEvent(ref: PluginRef, event: PluginEvent): Promise<Outcome<PluginAction[]>> {
    return this.#call(ref, "afterEvent", ActionsAnswer, (sandbox, call) =>
      sandbox.afterEvent(call, event),
    );
  }

  command(ref: PluginRef, command: CommandCall): Promise<Outcome<CommandReply>> {
    return this.#call(ref, "command", CommandAnswer, (sandbox, call) =>
      sandbox.command(call, command),
    );
  }

  job(ref: PluginRef, name: string): Promise<Outcome<PluginAction[]>> {
    return this.#call(ref, "job", ActionsAnswer, (sandbox, call) => sandbox.job(call, name));
  }

  /** A plugin's strikes in this room (for the room's view of its plugins). */
  strikes(id: string): Strikes {
    return this.#strikes.get(id) ?? NO_STRIKES;
  }

  async #call<T>(
    ref: PluginRef,
    hook: Hook,
    answer: z.ZodType<T, unknown>,
    invoke: (sandbox: SandboxEntrypoint, call: CallInfo) => Promise<SandboxResult>,
  ): Promise<Outcome<T>> {
    const started = this.#now();
    const strikes = this.strikes(ref.id);
    if (isSuspended(strikes, started)) {
      return {
        outcome: "suspended",
        message: `suspended in this room: it failed ${STRIKES.failuresInARow} times in a row`,
        until: strikes.suspendedUntil,
        ms: 0,
      };
    }
    const budgetMs = this.#wallMs[hook];
    const call = { id: crypto.randomUUID(), deadline: started + budgetMs };
    const attempt = async () => {
      const result = await invoke(this.#sandbox(ref), call);
      if (result.ok || !result.spent) return result;
      // Its isolate holds too much and the plugin did not run: a fresh one takes the call.
      this.#replaceIsolate(ref);
      return invoke(this.#sandbox(ref), call);
    };
    // The budget counts from now, waiting for the plugin's previous call included.
    const settled = await within(this.#inTurn(ref.id, attempt), budgetMs);
    const outcome = outcomeOf(settled, answer, this.#now() - started);
    this.#strikes.set(ref.id, afterCall(strikes, outcome.outcome === "ok", this.#now()));
    return outcome;
  }

  /** Runs `task` after the plugin's previous call here has settled or timed out. */
  #inTurn<R>(key: string, task: () => Promise<R>): Promise<R> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const turn = previous.then(task);
    const done = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, done);
    void done.then(() => {
      if (this.#queues.get(key) === done) this.#queues.delete(key);
    });
    return turn;
  }

  #sandbox(ref: PluginRef): SandboxEntrypoint {
    const { loader, exports, room } = this.#deps;
    const generation = this.#generations.get(`${ref.id}@${ref.version}`) ?? 0;
    const name = `${ref.id}@${ref.version}:${room}${generation > 0 ? `~${generation}` : ""}`;
    const worker = loader.get(name, async () =>
      sandboxCode(await this.#deps.code(ref), {
        env: { STORE: exports.PluginStore({ props: { plugin: ref.id, room } }) },
        globalOutbound:
          ref.hosts.length > 0
            ? exports.PluginOutbound({ props: { plugin: ref.id, room, hosts: [...ref.hosts] } })
            : null,
      }),
    );
    const props: SandboxProps = { plugin: ref.id, room };
    return worker.getEntrypoint(undefined, { props }) as unknown as SandboxEntrypoint;
  }

  /** The isolate holds more than its budget: from now on the plugin is loaded afresh. */
  #replaceIsolate(ref: PluginRef): void {
    const key = `${ref.id}@${ref.version}`;
    this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
  }
}

/** A sandbox's Worker Loader code: the sandbox's modules around the plugin's instrumented code. */
export function sandboxCode(
  pluginCode: string,
  capabilities: { env: Record<string, unknown>; globalOutbound: Fetcher | null },
): WorkerLoaderWorkerCode {
  return {
    compatibilityDate: COMPATIBILITY_DATE,
    mainModule: MAIN_MODULE,
    modules: {
      [MAIN_MODULE]: SANDBOX_MAIN,
      [RUNTIME_MODULE]: SANDBOX_RUNTIME,
      [PLUGIN_MODULE]: pluginCode,
    },
    env: capabilities.env,
    globalOutbound: capabilities.globalOutbound,
    limits: PRODUCTION_LIMITS,
  };
}

/**
 * What a plugin says it is (its manifest, unchecked), from a sandbox of its own with no store
 * and no network: the registry's step at install.
 */
export async function describePlugin(
  loader: WorkerLoader,
  code: string,
  now: () => number = Date.now,
): Promise<Outcome<unknown>> {
  const started = now();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code));
  const name = `install:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  const worker = loader.get(name, () => sandboxCode(code, { env: {}, globalOutbound: null }));
  const props: SandboxProps = { plugin: "install", room: "" };
  const sandbox = worker.getEntrypoint(undefined, { props }) as unknown as SandboxEntrypoint;
  const call = { id: crypto.randomUUID(), deadline: started + WALL_MS.describe };
  const settled = await within(sandbox.describe(call), WALL_MS.describe);
  return outcomeOf(settled, z.unknown(), now() - started);
}

/** The call's result, or a timeout once `budgetMs` have passed; the timer never outlives it. */
async function within(result: Promise<SandboxResult>, budgetMs: number): Promise<Settled> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout", budgetMs }), budgetMs);
  });
  try {
    return await Promise.race([
      result.then(
        (answered): Settled => ({ kind: "answered", result: answered }),
        (error: unknown): Settled => ({ kind: "rejected", error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
