import type { Actor } from "../identity/actor.ts";
import type { PluginManifest } from "../protocol/automation.ts";
import type { Command, Result, RoomEvent, SlashResult, Standing } from "../protocol/index.ts";
import { ActionBudget } from "../automation/budget.ts";
import { nextCronTime } from "../automation/cron.ts";
import type { PluginAction } from "../plugins/api.ts";
import type { Outcome } from "../plugins/outcomes.ts";
import type { ActivePlugin } from "../plugins/registry-object.ts";
import {
  applyVerdict,
  commandsOf,
  draftOf,
  pluginActor,
  pluginEventOf,
  pluginFor,
  rankOf,
} from "../plugins/room-bridge.ts";
import type { PluginRunner } from "../plugins/runner.ts";
import { errorFields, log } from "../telemetry/log.ts";
import type { ClockSource, Firing as ClockFiring } from "./clock.ts";
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
  keepAlive: (work: Promise<unknown>) => void;
  /** The clock's times changed (a job's next run). */
  changed: () => void;
};

type JobRow = { plugin: string; job: string; spec: string; at: number };

/**
 * The room's plugins at work (docs/plugins.md, "In a room"): those the instance enables and the
 * room's owner turned on here, run in their sandboxes by the runner. Before a post or an edit is
 * queued, each before-commit hook may let it through, rewrite it or refuse it; after a commit,
 * after-event hooks may act; slash commands and scheduled jobs run on request and on the clock.
 * Whatever a plugin does wrong (throws, loops, allocates, hangs, reaches for the network), the
 * room goes on: a failed before-commit hook lets the command through (fail open), a failed
 * after-event hook or job does nothing, and the runner suspends a plugin that keeps failing.
 */
export class RoomPlugins implements ClockSource {
  readonly name = "plugin-jobs";
  readonly #deps: RoomPluginsDeps;
  readonly #sql: SqlStorage;
  #active: { at: number; plugins: ActivePlugin[] } | undefined;
  /** Each plugin's actions in the room, per sliding minute (loop protection). */
  readonly #budgets = new Map<string, ActionBudget>();
  /** After-event hooks run one event after another, in commit order. */
  #afterQueue: Promise<void> = Promise.resolve();

  constructor(deps: RoomPluginsDeps) {
    this.#deps = deps;
    this.#sql = deps.storage.sql;
  }

  /** Whether the room has any plugin turned on: without one, commands skip the plugins at once. */
  get any(): boolean {
    return this.#deps.read.plugins().some((plugin) => plugin.enabled);
  }

  /** The plugins running here: enabled by the instance and turned on in the room. */
  async running(now = Date.now()): Promise<ActivePlugin[]> {
    const on = new Set(
      this.#deps.read
        .plugins()
        .filter((plugin) => plugin.enabled)
        .map((plugin) => plugin.plugin),
    );
    if (on.size === 0) return [];
    if (!this.#active || now - this.#active.at > ACTIVE_TTL_MS) {
      this.#active = { at: now, plugins: await this.#deps.active() };
      this.#syncJobs(now);
    }
    return this.#active.plugins.filter((plugin) => on.has(plugin.ref.id));
  }

  /** Forget the registry's list: a plugin was turned on or off here. */
  forget(): void {
    this.#active = undefined;
  }

  /**
   * A command through every before-commit hook, in the plugins' id order: the command to queue
   * (maybe rewritten), or the first refusal. Only posts and edits are screened.
   */
  async screen(command: Command, actor: Actor): Promise<Result<Command>> {
    const room = this.#deps.roomName();
    let current = command;
    for (const plugin of await this.running()) {
      if (!plugin.manifest.hooks.beforeCommit) continue;
      const draft = draftOf(current, actor, room);
      if (!draft) break;
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

  /** Committed events: each after-event hook's actions, in the background, in order. */
  committed(stored: readonly RoomEvent[]): void {
    if (!this.any || stored.length === 0) return;
    const work = this.#afterQueue.then(async () => {
      const plugins = (await this.running()).filter((p) => p.manifest.hooks.afterEvent);
      for (const event of stored)
        for (const plugin of plugins) {
          const outcome = await this.#deps.runner().afterEvent(plugin.ref, pluginEventOf(event));
          if (outcome.outcome !== "ok") this.#failed(plugin.ref.id, "afterEvent", outcome);
          else await this.#act(plugin.ref.id, outcome.value, `event:${event.seq}`);
        }
    });
    this.#afterQueue = work.catch((error: unknown) =>
      log.error("plugin after-event failed", {
        room: this.#deps.roomName(),
        error: errorFields(error),
      }),
    );
    this.#deps.keepAlive(this.#afterQueue);
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
   * makes the posts idempotent (the caller and their clientId).
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
    const outcome = await this.#deps.runner().command(plugin.ref, {
      command: input.name,
      args: input.args,
      user: { id: actor.id, name: actor.name },
      room: this.#deps.roomName(),
      rank: rankOf(standing),
    });
    if (outcome.outcome !== "ok") {
      this.#failed(manifest.id, "command", outcome);
      return {
        ok: true,
        value: { kind: "ephemeral", text: `/${input.name} failed: ${outcome.message}` },
      };
    }
    const reply = outcome.value;
    const posted =
      reply.text !== undefined && reply.visibility === "in_channel"
        ? [{ post: reply.text } satisfies PluginAction]
        : [];
    const seqs = await this.#act(
      manifest.id,
      [...posted, ...(reply.actions ?? [])],
      `command:${input.key}`,
    );
    if (posted.length > 0 && seqs[0] !== undefined)
      return { ok: true, value: { kind: "posted", seq: seqs[0] } };
    return { ok: true, value: { kind: "ephemeral", text: reply.text ?? `/${input.name} done.` } };
  }

  // ---- scheduled jobs: one of the clock's sources ----

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM plugin_jobs").one().at ??
      undefined
    );
  }

  due(now: number, limit: number): ClockFiring[] {
    return this.#sql
      .exec<JobRow>("SELECT * FROM plugin_jobs WHERE at <= ? ORDER BY at LIMIT ?", now, limit)
      .toArray()
      .map((row) => ({ at: row.at, fire: () => this.#runJob(row) }));
  }

  /** Refreshes the registry's list when the room has plugins on, so that their jobs get times. */
  wake(): void {
    if (this.any) this.#deps.keepAlive(this.running().catch(() => []));
  }

  async #runJob(row: JobRow): Promise<void> {
    const plugin = (await this.running()).find((candidate) => candidate.ref.id === row.plugin);
    if (plugin) {
      const outcome = await this.#deps.runner().job(plugin.ref, row.job);
      if (outcome.outcome !== "ok") this.#failed(row.plugin, "job", outcome);
      else await this.#act(row.plugin, outcome.value, `job:${row.job}:${row.at}`);
    }
    const spec = JSON.parse(row.spec) as { cron: string; timeZone: string };
    const next = plugin
      ? nextCronTime(spec.cron, spec.timeZone, Math.max(row.at, Date.now()))
      : undefined;
    if (next === undefined)
      this.#sql.exec(
        "DELETE FROM plugin_jobs WHERE plugin = ? AND job = ? AND at = ?",
        row.plugin,
        row.job,
        row.at,
      );
    else
      this.#sql.exec(
        "UPDATE plugin_jobs SET at = ? WHERE plugin = ? AND job = ? AND at = ?",
        next,
        row.plugin,
        row.job,
        row.at,
      );
  }

  /** The jobs of the plugins running here get a row each; a gone or changed job loses its row. */
  #syncJobs(now: number): void {
    const on = new Set(
      this.#deps.read
        .plugins()
        .filter((p) => p.enabled)
        .map((p) => p.plugin),
    );
    const wanted = new Map<string, { plugin: string; job: string; spec: string }>();
    for (const plugin of this.#active?.plugins ?? [])
      if (on.has(plugin.ref.id))
        for (const job of plugin.manifest.jobs) {
          const spec = JSON.stringify({ cron: job.cron, timeZone: job.timeZone });
          wanted.set(`${plugin.ref.id}\n${job.name}`, {
            plugin: plugin.ref.id,
            job: job.name,
            spec,
          });
        }
    let changed = false;
    for (const row of this.#sql.exec<JobRow>("SELECT * FROM plugin_jobs").toArray()) {
      const key = `${row.plugin}\n${row.job}`;
      if (wanted.get(key)?.spec === row.spec) wanted.delete(key);
      else {
        this.#sql.exec("DELETE FROM plugin_jobs WHERE plugin = ? AND job = ?", row.plugin, row.job);
        changed = true;
      }
    }
    for (const job of wanted.values()) {
      const spec = JSON.parse(job.spec) as { cron: string; timeZone: string };
      const at = nextCronTime(spec.cron, spec.timeZone, now);
      if (at === undefined) continue;
      this.#sql.exec(
        "INSERT INTO plugin_jobs VALUES (?, ?, ?, ?)",
        job.plugin,
        job.job,
        job.spec,
        at,
      );
      changed = true;
    }
    if (changed) this.#deps.changed();
  }

  /**
   * A plugin's actions as its bot, within its budget: the seqs of what was committed. Refusals
   * (editing someone else's message, a deleted one) are logged, not thrown.
   */
  async #act(
    plugin: string,
    actions: readonly PluginAction[],
    key: string,
  ): Promise<(number | undefined)[]> {
    if (actions.length === 0) return [];
    const room = this.#deps.roomName();
    const budget = this.#budgets.get(plugin) ?? new ActionBudget();
    this.#budgets.set(plugin, budget);
    if (!budget.take(actions.length, Date.now())) {
      log.warn("plugin over budget", { room, plugin, actions: actions.length });
      return [];
    }
    const actor = pluginActor(room, plugin);
    const seqs: (number | undefined)[] = [];
    for (const command of commandsOf(actions, `${plugin}:${key}`)) {
      const result = await this.#deps.submit(command, actor);
      if (!result.ok) log.warn("plugin action refused", { room, plugin, ...result.error });
      seqs.push(result.ok ? result.value.seq : undefined);
    }
    return seqs;
  }

  #failed(
    plugin: string,
    hook: string,
    outcome: Exclude<Outcome<unknown>, { outcome: "ok" }>,
  ): void {
    log.warn("plugin hook failed", {
      room: this.#deps.roomName(),
      plugin,
      hook,
      outcome: outcome.outcome,
      message: outcome.message,
      ms: outcome.ms,
    });
  }
}
