import type { Actor } from "../identity/actor.ts";
import type { PluginManifest } from "../protocol/automation.ts";
import type { Command, Result, RoomEvent, SlashResult, Standing } from "../protocol/index.ts";
import { ActionBudget } from "../automation/budget.ts";
import type { Outcome } from "../plugins/outcomes.ts";
import type { ActivePlugin } from "../plugins/registry-object.ts";
import {
  applyVerdict,
  commandKey,
  commandsOf,
  draftOf,
  pluginActor,
  pluginEventOf,
  pluginFor,
  rankOf,
  replyCommands,
  replyPostClientId,
  slashAnswer,
} from "../plugins/room-bridge.ts";
import type { PluginRunner } from "../plugins/runner.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { PluginJobs } from "./plugin-jobs.ts";
import type { ReadModel } from "./read-model.ts";

/** How long the room trusts its copy of the registry's enabled plugins. */
export const ACTIVE_TTL_MS = 15_000;

export type RoomPluginsDeps = {
  runner: () => PluginRunner;
  read: ReadModel;
  storage: DurableObjectStorage;
  roomName: () => string;
  /** The instance's enabled plugins at their current versions (the registry). */
  active: () => Promise<ActivePlugin[]>;
  /** A command through the room's command flow, answered once committed or refused. */
  submit: (command: Command, actor: Actor) => Promise<Result<{ seq: number }>>;
  /** The seq a command of `actorId` with `clientId` made, if the room took it (idempotency keys). */
  made: (actorId: string, clientId: string) => number | undefined;
  keepAlive: (work: Promise<unknown>) => void;
  /** The clock's times changed (a job's next run). */
  changed: () => void;
};

/**
 * The room's plugins at work (docs/plugins.md, "In a room"): those the instance enables and the
 * room's owner turned on here, run in their sandboxes by the runner. Before a post or an edit is
 * queued, each before-commit hook may let it through, rewrite it or refuse it; after a commit,
 * after-event hooks may act; slash commands and scheduled jobs run on request and on the clock.
 * Whatever a plugin does wrong (throws, loops, allocates, hangs, reaches for the network), the
 * room goes on: a failed before-commit hook lets the command through (fail open), a failed
 * after-event hook or job does nothing, and the runner suspends a plugin that keeps failing.
 */
export class RoomPlugins {
  readonly #deps: RoomPluginsDeps;
  /** The plugins' scheduled jobs: one of the clock's sources. */
  readonly jobs: PluginJobs;
  /** The plugins turned on here (the log's projection), read once until one is turned on or off. */
  #on: ReadonlySet<string> | undefined;
  /** The registry's list and when it was asked; the last good one stays if a refresh fails. */
  #active: { at: number; plugins: Promise<ActivePlugin[]> } | undefined;
  #lastActive: ActivePlugin[] = [];
  /** Each plugin's actions in the room, per sliding minute (loop protection). */
  readonly #budgets = new Map<string, ActionBudget>();
  /** Committed events handed to the plugins' queues, in commit order. */
  #dispatch: Promise<void> = Promise.resolve();
  /** Each plugin's after-event calls, one event after another; plugins do not wait for each other. */
  readonly #afterQueues = new Map<string, Promise<void>>();
  /** Slash commands being run, by their key: a retry while one runs gets its answer. */
  readonly #commandsRunning = new Map<string, Promise<Result<SlashResult> | undefined>>();

  constructor(deps: RoomPluginsDeps) {
    this.#deps = deps;
    this.jobs = new PluginJobs(deps.storage.sql, (row) => this.#runJob(row), deps.changed);
  }

  /** Whether the room has any plugin turned on: without one, commands skip the plugins at once. */
  get any(): boolean {
    return this.#turnedOn().size > 0;
  }

  /** The plugins running here: enabled by the instance and turned on in the room. */
  async running(now = Date.now()): Promise<ActivePlugin[]> {
    const on = this.#turnedOn();
    if (on.size === 0) return [];
    if (!this.#active || now - this.#active.at > ACTIVE_TTL_MS) this.#refresh(now);
    const plugins = await this.#active!.plugins;
    return plugins.filter((plugin) => on.has(plugin.ref.id));
  }

  /** Forget what is on here and the registry's list: a plugin was turned on or off here. */
  forget(): void {
    this.#on = undefined;
    this.#active = undefined;
  }

  /**
   * A command through every before-commit hook, in the plugins' id order: the command to queue
   * (maybe rewritten), or the first refusal. Only posts and edits are screened. A hook that
   * fails lets the command through as it was (fail open).
   */
  async screen(command: Command, actor: Actor): Promise<Result<Command>> {
    const room = this.#deps.roomName();
    if (!draftOf(command, actor, room)) return { ok: true, value: command };
    let current = command;
    for (const plugin of await this.running()) {
      if (!plugin.manifest.hooks.beforeCommit) continue;
      const draft = draftOf(current, actor, room)!;
      const outcome = await this.#deps.runner().beforeCommit(plugin.ref, draft);
      if (outcome.outcome !== "ok") {
        this.#failed(plugin.ref.id, "beforeCommit", outcome);
        continue;
      }
      const applied = applyVerdict(current, plugin.ref.id, outcome.value);
      if (!applied.ok) return applied;
      current = applied.command;
    }
    return { ok: true, value: current };
  }

  /**
   * Committed events: each after-event hook's actions, in the background. Each plugin gets the
   * events in commit order, one after another; a slow or failing plugin delays only itself.
   */
  committed(stored: readonly RoomEvent[]): void {
    if (!this.any || stored.length === 0) return;
    const dispatched = this.#dispatch.then(async () => {
      for (const plugin of await this.running())
        if (plugin.manifest.hooks.afterEvent) this.#afterEvents(plugin, stored);
    });
    this.#dispatch = dispatched.catch((error: unknown) =>
      log.error("plugin after-event failed", {
        room: this.#deps.roomName(),
        error: errorFields(error),
      }),
    );
    this.#deps.keepAlive(this.#dispatch);
  }

  /** The slash commands of the plugins running here, for completion and /help. */
  async commands(): Promise<{ plugin: string; manifest: PluginManifest }[]> {
    return (await this.running()).map((plugin) => ({
      plugin: plugin.ref.id,
      manifest: plugin.manifest,
    }));
  }

  /**
   * Slash command `name` for `actor` if a plugin here has it (undefined when none has): its
   * answer to the caller alone, or its text posted by its bot; its actions carried out. `key`
   * (the caller and their clientId) makes it idempotent: a command whose text was posted is not
   * run again for the same key, it answers that post; a retry while it runs waits for it.
   */
  async command(
    actor: Actor,
    standing: Standing,
    input: { name: string; args: string; key: string; plugin?: string },
  ): Promise<Result<SlashResult> | undefined> {
    const running = await this.running();
    const candidates = running.filter(
      (p) => input.plugin === undefined || p.ref.id === input.plugin,
    );
    const manifest = pluginFor(candidates, input.name);
    if (!manifest) return undefined;
    const plugin = running.find((candidate) => candidate.ref.id === manifest.id)!;
    const key = commandKey(manifest.id, input.key);
    const bot = pluginActor(this.#deps.roomName(), manifest.id);
    const done = this.#deps.made(bot.id, replyPostClientId(key));
    if (done !== undefined) return { ok: true, value: { kind: "posted", seq: done } };
    const inFlight = this.#commandsRunning.get(key);
    if (inFlight) return inFlight;
    const run = this.#runCommand(plugin, actor, standing, input, key);
    this.#commandsRunning.set(key, run);
    try {
      return await run;
    } finally {
      this.#commandsRunning.delete(key);
    }
  }

  async #runCommand(
    plugin: ActivePlugin,
    actor: Actor,
    standing: Standing,
    input: { name: string; args: string },
    key: string,
  ): Promise<Result<SlashResult>> {
    const outcome = await this.#deps.runner().command(plugin.ref, {
      command: input.name,
      args: input.args,
      user: { id: actor.id, name: actor.name },
      room: this.#deps.roomName(),
      rank: rankOf(standing),
    });
    if (outcome.outcome !== "ok") {
      this.#failed(plugin.ref.id, "command", outcome);
      return {
        ok: true,
        value: { kind: "ephemeral", text: `/${input.name} failed: ${outcome.message}` },
      };
    }
    const acted = await this.#act(plugin.ref.id, replyCommands(outcome.value, key));
    return { ok: true, value: slashAnswer(input.name, outcome.value, acted) };
  }

  // ---- scheduled jobs ----

  /** Refreshes the registry's list when the room has plugins on, so that their jobs get times. */
  wake(): void {
    if (this.any) this.#deps.keepAlive(this.running());
  }

  /** A job's due time (plugin-jobs.ts): whether its plugin still runs here. */
  async #runJob(row: { plugin: string; job: string; at: number }): Promise<boolean> {
    const plugin = (await this.running()).find((candidate) => candidate.ref.id === row.plugin);
    if (!plugin) return false;
    const outcome = await this.#deps.runner().job(plugin.ref, row.job);
    if (outcome.outcome !== "ok") this.#failed(row.plugin, "job", outcome);
    else
      await this.#act(
        row.plugin,
        commandsOf(outcome.value, `${row.plugin}:job:${row.job}:${row.at}`),
      );
    return true;
  }

  // ---- internals ----

  #turnedOn(): ReadonlySet<string> {
    this.#on ??= new Set(
      this.#deps.read
        .plugins()
        .filter((plugin) => plugin.enabled)
        .map((plugin) => plugin.plugin),
    );
    return this.#on;
  }

  /**
   * Asks the registry for its list once for every caller until it answers. A registry that does
   * not answer leaves the last list in use (none at first): plugins fail open, posts go on.
   */
  #refresh(now: number): void {
    const plugins = this.#deps.active().then(
      (active) => {
        this.#lastActive = active;
        this.jobs.sync(active, this.#turnedOn(), now);
        return active;
      },
      (error: unknown) => {
        log.error("plugin registry unreachable", {
          room: this.#deps.roomName(),
          error: errorFields(error),
        });
        // Asked again at the next call rather than in ACTIVE_TTL_MS.
        if (this.#active?.plugins === plugins) this.#active = undefined;
        return this.#lastActive;
      },
    );
    this.#active = { at: now, plugins };
  }

  /** One plugin's after-event calls for `stored`, after its calls for the events before. */
  #afterEvents(plugin: ActivePlugin, stored: readonly RoomEvent[]): void {
    const id = plugin.ref.id;
    const work = (this.#afterQueues.get(id) ?? Promise.resolve()).then(async () => {
      for (const event of stored) {
        const outcome = await this.#deps.runner().afterEvent(plugin.ref, pluginEventOf(event));
        if (outcome.outcome !== "ok") this.#failed(id, "afterEvent", outcome);
        else await this.#act(id, commandsOf(outcome.value, `${id}:event:${event.seq}`));
      }
    });
    const settled = work.catch((error: unknown) =>
      log.error("plugin after-event failed", {
        room: this.#deps.roomName(),
        plugin: id,
        error: errorFields(error),
      }),
    );
    this.#afterQueues.set(id, settled);
    void settled.then(() => {
      if (this.#afterQueues.get(id) === settled) this.#afterQueues.delete(id);
    });
    this.#deps.keepAlive(settled);
  }

  /**
   * A plugin's actions as its bot (`commands`, with clientIds the same on every replay), all of
   * them or none within its budget: the seq of the first one, or why it was not committed.
   * Refusals (editing someone else's message, a deleted one) are logged, not thrown.
   */
  async #act(
    plugin: string,
    commands: readonly Command[],
  ): Promise<{ firstSeq?: number; refused?: string }> {
    if (commands.length === 0) return {};
    const room = this.#deps.roomName();
    const budget = this.#budgets.get(plugin) ?? new ActionBudget();
    this.#budgets.set(plugin, budget);
    if (!budget.take(commands.length, Date.now())) {
      log.warn("plugin over budget", { room, plugin, actions: commands.length });
      return { refused: `the plugin is over its ${budget.limit} actions a minute here` };
    }
    const actor = pluginActor(room, plugin);
    const results = [];
    for (const command of commands) {
      const result = await this.#deps.submit(command, actor);
      if (!result.ok) log.warn("plugin action refused", { room, plugin, ...result.error });
      results.push(result);
    }
    const [first] = results;
    if (!first) return {};
    return first.ok ? { firstSeq: first.value.seq } : { refused: first.error.message };
  }

  /** A failed call is logged; a suspended plugin's skipped calls are not, its suspension is. */
  #failed(
    plugin: string,
    hook: string,
    outcome: Exclude<Outcome<unknown>, { outcome: "ok" }>,
  ): void {
    if (outcome.outcome === "suspended") return;
    const room = this.#deps.roomName();
    log.warn("plugin hook failed", {
      room,
      plugin,
      hook,
      outcome: outcome.outcome,
      message: outcome.message,
      ms: outcome.ms,
    });
    const { suspendedUntil } = this.#deps.runner().strikes(plugin);
    if (suspendedUntil > Date.now())
      log.warn("plugin suspended", { room, plugin, until: new Date(suspendedUntil).toISOString() });
  }
}
