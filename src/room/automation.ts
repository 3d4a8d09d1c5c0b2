import type { Actor } from "../identity/actor.ts";
import {
  LIMITS_AUTOMATION,
  type DryRunReport,
  type Rule,
  type RuleInput,
} from "../protocol/automation.ts";
import type { AutomationFired } from "../protocol/automation-fired.ts";
import type { Command, Result, RoomEvent } from "../protocol/index.ts";
import { ActionBudget } from "../automation/budget.ts";
import { nextTimes, type TimedTrigger } from "../automation/cron.ts";
import { dryRun } from "../automation/dry-run.ts";
import {
  firingForTick,
  firingsFor,
  stepsToRun,
  type EngineContext,
  type EngineRule,
  type Firing,
  type RoomFacts,
} from "../automation/engine.ts";
import { errorFields, log } from "../telemetry/log.ts";
import type { ClockSource, Firing as ClockFiring } from "./clock.ts";
import type { EventLog } from "./log.ts";
import type { ReadModel } from "./read-model.ts";

/** A plugin command a rule runs (docs/automation.md, "Actions"), as the rule's actor. */
export type PluginStep = { plugin: string; command: string; args: string; key: string };

export type AutomationDeps = {
  storage: DurableObjectStorage;
  read: ReadModel;
  log: EventLog;
  roomName: () => string;
  /** The instance's admins (usernames, lower case): a rule never mutes them. */
  admins: readonly string[];
  /** A command through the room's command flow, answered once it is committed or refused. */
  submit: (command: Command, actor: Actor) => Promise<Result<{ seq: number }>>;
  /** A rule's `webhook` action, to the room's hub. */
  webhook: (fired: {
    webhookId: string;
    key: string;
    seq: number;
    payload: AutomationFired;
  }) => Promise<Result<unknown>>;
  plugin: (step: PluginStep, actor: Actor) => Promise<void>;
  /** The room's incoming hooks' bots by hook id, for `webhook` triggers. */
  hookBots: () => Promise<ReadonlyMap<string, string>>;
  /** The instance's rules that apply to rooms (a cache: never waits). */
  instanceRules: () => readonly EngineRule[];
  /** Keeps the object alive for work that outlives the call that started it. */
  keepAlive: (work: Promise<unknown>) => void;
  /** The clock's times changed. */
  changed: () => void;
};

type ClockRow = { rule_id: string; trigger: string; at: number };

const isTimed = (rule: EngineRule): rule is EngineRule & { trigger: TimedTrigger } =>
  rule.trigger.on === "schedule" || rule.trigger.on === "time";

/**
 * The room's rules at work (docs/automation.md): after each commit the engine (src/automation/,
 * pure) says which rules fire, and this carries the firings out in order, in the background, as
 * each rule's own actor; schedule and time rules are one of the clock's sources, each rule's next
 * time kept in `rule_clock` so that a restart neither loses nor repeats a firing. A firing's
 * commands carry keys that the room's idempotency keys dedupe: an alarm delivered twice, or a
 * crash between a firing and its move to the next time, posts once.
 */
export class RoomAutomation implements ClockSource {
  readonly name = "rules";
  readonly #deps: AutomationDeps;
  readonly #sql: SqlStorage;
  /** Every rule of the room together, per sliding minute (loop protection). */
  readonly #budget = new ActionBudget();
  /** Firings run one after another, in commit order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: AutomationDeps) {
    this.#deps = deps;
    this.#sql = deps.storage.sql;
  }

  /** The room's own rules, each with its next time when it has one. */
  list(): Rule[] {
    const next = new Map(this.#rows().map((row) => [row.rule_id, row.at]));
    return this.#deps.read
      .rules()
      .map((rule) => (next.has(rule.id) ? { ...rule, nextAt: next.get(rule.id)! } : rule));
  }

  /** Events were committed: the rules they trigger, carried out after it. */
  committed(stored: readonly RoomEvent[], now: number): void {
    if (stored.some((event) => event.type === "rule.saved" || event.type === "rule.deleted"))
      this.syncClock(now);
    const rules = this.#rules().filter((rule) => rule.enabled && !isTimed(rule));
    if (rules.length === 0) return;
    this.#enqueue(async () => {
      const ctx = await this.#context(Date.now(), rules);
      for (const firing of firingsFor(rules, stored, ctx)) await this.#run(firing, seqOf(firing));
    });
  }

  /** What `input` would have done over the room's recent events, or when it will fire. */
  async dryRun(input: RuleInput, now: number): Promise<DryRunReport> {
    const rule: EngineRule = { ...input, id: "rl_0000000000000000" };
    const { log } = this.#deps;
    const recent = log.range(
      Math.max(0, log.lastSeq - LIMITS_AUTOMATION.dryRunEvents),
      LIMITS_AUTOMATION.dryRunEvents,
    );
    const { budget: _unused, ...ctx } = await this.#context(now, [rule]);
    return dryRun(rule, recent, { ...ctx, nextTimes });
  }

  // ---- the clock's source ----

  /**
   * Brings `rule_clock` in line with the rules: a new or changed timed rule gets its next time
   * after `now`, a deleted or disabled one loses its row; a row whose trigger is unchanged keeps
   * its time, so that a due firing missed while the room was down still fires once.
   */
  syncClock(now: number): void {
    const timed = new Map(
      this.#rules()
        .filter((rule) => rule.enabled && isTimed(rule))
        .map((rule) => [rule.id, JSON.stringify(rule.trigger)]),
    );
    const rows = new Map(this.#rows().map((row) => [row.rule_id, row]));
    let changed = false;
    for (const [id, row] of rows)
      if (timed.get(id) !== row.trigger) {
        this.#sql.exec("DELETE FROM rule_clock WHERE rule_id = ?", id);
        rows.delete(id);
        changed = true;
      }
    for (const [id, trigger] of timed) {
      if (rows.has(id)) continue;
      const at = nextTimes(JSON.parse(trigger) as TimedTrigger, now, 1)[0];
      if (at === undefined) continue;
      this.#sql.exec(
        "INSERT INTO rule_clock (rule_id, trigger, at) VALUES (?, ?, ?)",
        id,
        trigger,
        at,
      );
      changed = true;
    }
    if (changed) this.#deps.changed();
  }

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM rule_clock").one().at ??
      undefined
    );
  }

  due(now: number, limit: number): ClockFiring[] {
    return this.#sql
      .exec<ClockRow>("SELECT * FROM rule_clock WHERE at <= ? ORDER BY at LIMIT ?", now, limit)
      .toArray()
      .map((row) => ({ at: row.at, fire: () => this.#fireTimed(row) }));
  }

  /** A timed rule's due time: its firing carried out, then the rule moved to its next time. */
  async #fireTimed(row: ClockRow): Promise<void> {
    const rule = this.#rules().find((candidate) => candidate.id === row.rule_id);
    if (rule) {
      const now = Date.now();
      const firing = firingForTick(rule, row.at, await this.#context(now, [rule]));
      if (firing) await this.#run(firing, this.#deps.log.lastSeq);
    }
    const next =
      rule && isTimed(rule)
        ? nextTimes(rule.trigger, Math.max(row.at, Date.now()), 1)[0]
        : undefined;
    if (next === undefined)
      this.#sql.exec("DELETE FROM rule_clock WHERE rule_id = ? AND at = ?", row.rule_id, row.at);
    else
      this.#sql.exec(
        "UPDATE rule_clock SET at = ? WHERE rule_id = ? AND at = ?",
        next,
        row.rule_id,
        row.at,
      );
  }

  // ---- internals ----

  #rows(): ClockRow[] {
    return this.#sql.exec<ClockRow>("SELECT * FROM rule_clock").toArray();
  }

  /** The room's own rules, then the instance's that apply here. */
  #rules(): EngineRule[] {
    return [...this.#deps.read.rules(), ...this.#deps.instanceRules()];
  }

  #enqueue(work: () => Promise<void>): void {
    const next = this.#queue.then(work).catch((error: unknown) => {
      log.error("automation firing failed", {
        room: this.#deps.roomName(),
        error: errorFields(error),
      });
    });
    this.#queue = next;
    this.#deps.keepAlive(next);
  }

  async #context(now: number, rules: readonly EngineRule[]): Promise<EngineContext> {
    const wantsHooks = rules.some((rule) => rule.trigger.on === "webhook");
    return {
      room: this.#deps.roomName(),
      facts: this.#facts(now),
      hookBots: wantsHooks ? await this.#deps.hookBots() : new Map(),
      budget: this.#budget,
      now,
    };
  }

  /** What the planner asks of the room's members, read when asked. */
  #facts(now: number): RoomFacts {
    const { read, admins } = this.#deps;
    const rank = { member: 0, moderator: 1, owner: 2 } as const;
    return {
      role: (userId) => read.view()?.role(userId),
      isAdmin: (userId) => {
        const name = read.memberName(userId);
        return name !== undefined && admins.includes(name.toLowerCase());
      },
      membersAtLeast: (role) =>
        read
          .members(now)
          .filter((member) => rank[member.role] >= rank[role])
          .map(({ id, name }) => ({ id, name })),
      messageText: (messageId) => read.messageText(messageId),
    };
  }

  /** A firing's steps, in order; a refused step is logged and the next one still runs. */
  async #run(firing: Firing, seq: number): Promise<void> {
    const room = this.#deps.roomName();
    const where = { room, rule: firing.rule.id };
    if (firing.skipped !== undefined) {
      log.info("rule skipped", { ...where, reason: firing.skipped });
      return;
    }
    for (const step of stepsToRun(firing)) {
      try {
        const outcome = await this.#step(step, firing.actor, seq);
        if (!outcome.ok)
          log.warn("rule action refused", { ...where, key: step.key, ...outcome.error });
      } catch (error) {
        log.error("rule action failed", { ...where, key: step.key, error: errorFields(error) });
      }
    }
  }

  #step(
    step: ReturnType<typeof stepsToRun>[number],
    actor: Actor,
    seq: number,
  ): Promise<Result<unknown>> {
    switch (step.kind) {
      case "command":
        return this.#deps.submit(step.command, actor);
      case "webhook":
        return this.#deps.webhook({
          webhookId: step.webhook,
          key: step.key,
          seq,
          payload: step.payload,
        });
      case "plugin":
        return this.#deps
          .plugin(
            { plugin: step.plugin, command: step.command, args: step.args, key: step.key },
            actor,
          )
          .then(() => ({ ok: true, value: undefined }));
    }
  }
}

/** The seq a firing's webhook delivery is filed under: its event's. */
const seqOf = (firing: Firing): number =>
  firing.cause.kind === "event" ? firing.cause.event.seq : 0;
