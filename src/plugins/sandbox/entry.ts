import { WorkerEntrypoint } from "cloudflare:workers";
import type {
  CommandCall,
  Draft,
  PluginContext,
  PluginDefinition,
  PluginEvent,
  Store,
} from "../api.ts";
import type {
  CallInfo,
  SandboxEnv,
  SandboxProps,
  SandboxResult,
  StoreBinding,
} from "./contract.ts";
import { LIMIT_ERROR_NAME } from "./names.ts";
import { meter, MiB, PluginLimit } from "./runtime.ts";
import definition from "./plugin.ts";

/**
 * The main module of every plugin's Dynamic Worker (docs/plugins.md): the entrypoint the runner
 * calls over RPC, one method per hook. Each call opens the meter (full fuel, no bytes), builds the
 * plugin's context (its room, its store, the global fetch), runs the hook, and answers with the
 * plugin's value as JSON data or with what went wrong; it never throws.
 */

// The plugin's module has run (imports are evaluated first): its load budget is over.
meter.close();

const MESSAGE_CHARS = 500;

export default class PluginSandbox extends WorkerEntrypoint<SandboxEnv, SandboxProps> {
  describe(call: CallInfo): Promise<SandboxResult> {
    return this.#run(call, () => manifestOf(plugin()));
  }

  beforeCommit(call: CallInfo, draft: Draft): Promise<SandboxResult> {
    return this.#run(call, (ctx) => hook(plugin().beforeCommit, "beforeCommit")(draft, ctx));
  }

  afterEvent(call: CallInfo, event: PluginEvent): Promise<SandboxResult> {
    return this.#run(call, (ctx) => hook(plugin().afterEvent, "afterEvent")(event, ctx));
  }

  command(call: CallInfo, command: CommandCall): Promise<SandboxResult> {
    return this.#run(call, (ctx) => {
      const found = plugin().commands?.[command.command];
      return hook(found?.run, `command /${command.command}`)(command, ctx);
    });
  }

  job(call: CallInfo, name: string): Promise<SandboxResult> {
    return this.#run(call, (ctx) => hook(plugin().jobs?.[name]?.run, `job ${name}`)(ctx));
  }

  async #run(call: CallInfo, body: (ctx: PluginContext) => unknown): Promise<SandboxResult> {
    meter.open(call.id, call.deadline);
    if (meter.spent) {
      meter.close(call.id);
      const message = `${LIMIT_ERROR_NAME}: its isolate holds more than ${meter.budgets.bytesPerIsolate / MiB} MiB`;
      return { ok: false, limit: true, spent: true, message };
    }
    try {
      // Turned into JSON data while the meter is open: a toJSON of the plugin's runs metered.
      const value = asJson(await body(this.#context()));
      const tripped = meter.close(call.id);
      return tripped ? failure(tripped) : { ok: true, value };
    } catch (error) {
      return failure(meter.close(call.id) ?? error);
    }
  }

  #context(): PluginContext {
    return {
      room: this.ctx.props.room,
      store: storeOf(this.env.STORE),
      fetch: globalThis.fetch,
    };
  }
}

function plugin(): PluginDefinition {
  if (definition === null || typeof definition !== "object") {
    throw new TypeError(
      "the module's default export is not a plugin: export default definePlugin({ ... })",
    );
  }
  return definition;
}

function hook<F extends (...args: never[]) => unknown>(fn: F | undefined, name: string): F {
  if (typeof fn !== "function") throw new TypeError(`the plugin has no ${name}`);
  return fn;
}

/** What the plugin says it is, for the registry to check (PluginManifest). */
function manifestOf(plugin: PluginDefinition) {
  const commands = Object.entries(plugin.commands ?? {}).map(([name, command]) => {
    hook(command?.run, `run function for command /${name}`);
    return { name, usage: command.usage, description: command.description };
  });
  const jobs = Object.entries(plugin.jobs ?? {}).map(([name, job]) => {
    hook(job?.run, `run function for job ${name}`);
    return { name, cron: job.cron, timeZone: job.timeZone ?? "UTC" };
  });
  return {
    id: plugin.id,
    version: plugin.version,
    description: plugin.description ?? "",
    hooks: {
      beforeCommit: typeof plugin.beforeCommit === "function",
      afterEvent: typeof plugin.afterEvent === "function",
    },
    commands,
    jobs,
    hosts: plugin.hosts ?? [],
  };
}

function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined)
    throw new TypeError("the plugin answered with something that is not JSON");
  return JSON.parse(text);
}

function failure(error: unknown): SandboxResult {
  // The fuel allows far more calls than the stack holds frames: a runaway recursion mostly
  // ends here, and is a limit all the same.
  if (error instanceof RangeError && STACK_OVERFLOW.test(error.message)) {
    return { ok: false, limit: true, message: `${LIMIT_ERROR_NAME}: ${error.message}` };
  }
  const limit = error instanceof PluginLimit || nameOf(error) === LIMIT_ERROR_NAME;
  return { ok: false, limit, message: messageOf(error).slice(0, MESSAGE_CHARS) };
}

const STACK_OVERFLOW = /^Maximum call stack size exceeded/;

function nameOf(error: unknown): unknown {
  try {
    return (error as { name?: unknown } | null)?.name;
  } catch {
    return undefined;
  }
}

/** A thrown value's message, without running more of the plugin's code than reading it takes. */
function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return `threw ${typeof error === "string" ? error : typeof error}`;
  } catch {
    return "threw a value that cannot be shown";
  }
}

/** The plugin's store: JSON values over the PluginStore binding, only while a call runs. */
function storeOf(binding: StoreBinding | undefined): Store {
  const store = () => {
    if (!meter.active) throw new PluginLimit("the store was used outside a hook call");
    if (!binding) throw new TypeError("this sandbox has no store");
    return binding;
  };
  return {
    async get<T>(key: string) {
      const text = await store().get(String(key));
      return text === null ? null : (JSON.parse(text) as T);
    },
    async put(key: string, value: unknown) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError("a stored value must be JSON");
      await store().put(String(key), text);
    },
    async delete(key: string) {
      await store().delete(String(key));
    },
    async list<T>(prefix?: string) {
      const rows = await store().list(prefix === undefined ? "" : String(prefix));
      return rows.map((row) => ({ key: row.key, value: JSON.parse(row.value) as T }));
    },
  };
}
