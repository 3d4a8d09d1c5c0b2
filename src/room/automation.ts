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
import { nextTimes } from "../automation/cron.ts";
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
import { pluginActor } from "../plugins/room-bridge.ts";
import type { ClockSource, Firing as ClockFiring } from "./clock.ts";
import { isTimed, RuleClock, type TimedRule } from "./rule-clock.ts";
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
    /** An instance rule's: to the instance's webhooks. */
    instance: boolean;
  }) => Promise<Result<unknown>>;
  plugin: (step: PluginStep, actor: Actor) => Promise<void>;
  /** The room's incoming hooks' bots by hook id, for `webhook` triggers. */
  hookBots: () => Promise<ReadonlyMap<string, string>>;
  /** The instance's rules that apply here (instance-rules.ts: a cache, pulled in the background). */
  instanceRules: {
    readonly version: number | undefined;
    /** Whether the copy is older than its time to live (a pull is due). */
    readonly stale: boolean;
    current(): EngineRule[];
    loaded(): Promise<EngineRule[]>;
  };
  /** Keeps the object alive for work that outlives the call that started it. */
  keepAlive: (work: Promise<unknown>) => void;
  /** The clock's times changed. */
  changed: () => void;
};

/** A batch of committed events whose firings have not all run yet (`automation_pending`). */
type PendingRow = { first_seq: number; last_seq: number; at: number };

/**
 * How long after its commit a batch still pending is replayed. Only a crash leaves one behind:
 * a batch this instance is carrying out is never replayed by it.
 */
export const REPLAY_AFTER_MS = 5000;

/** How many plugin-written events the room remembers the rule of (loop protection). */
const ACTED_FOR_KEPT = 1000;

/**
 * The room's rules at work (docs/automation.md): after each commit the engine (src/automation/,
 * pure) says which rules fire, and this carries the firings out in order, in the background, as
 * each rule's own actor; schedule and time rules are one of the clock's sources, each rule's next
 * time kept in `rule_clock` so that a restart neither loses nor repeats a firing. A firing's
 * commands carry keys that the room's idempotency keys dedupe: an alarm delivered twice, or a
 * crash between a firing and its move to the next time, posts once. Likewise each batch of
 * committed events stays in `automation_pending` until its firings ran: a crash between a commit
 * and its firings is replayed by the clock, once.
 */
export class RoomAutomation implements ClockSource {
  readonly name = "rules";
  readonly #deps: AutomationDeps;
  readonly #sql: SqlStorage;
  /** Each timed rule's next time. */
  readonly #clock: RuleClock;
  /** Every rule of the room together, per sliding minute (loop protection). */
  readonly #budget = new ActionBudget();
  /** Firings run one after another, in commit order. */
  #queue: Promise<void> = Promise.resolve();
  /** The pending batches (by first seq) this instance is carrying out now. */
  readonly #inFlight = new Set<number>();
  /** Events a plugin's bot wrote for a rule's plugin action, by seq: that rule's own actions. */
  readonly #actedFor = new Map<number, string>();

  constructor(deps: AutomationDeps) {
    this.#deps = deps;
    this.#sql = deps.storage.sql;
    this.#clock = new RuleClock(
      this.#sql,
      (rule, dueAt) => this.#fireTimed(rule, dueAt),
      deps.changed,
    );
  }

  /** The room's own rules, each with its next time when it has one. */
  list(): Rule[] {
    const next = this.#clock.times();
    return this.#deps.read
      .rules()
      .map((rule) => (next.has(rule.id) ? { ...rule, nextAt: next.get(rule.id)! } : rule));
  }

  /**
   * Events were committed: the rules they trigger, carried out after it, in the background. The
   * batch is written down as pending in the same turn as the commit (so under the same output
   * gate) and crossed off once its firings ran: a crash in between leaves it for the clock to
   * replay (`due`), and the firings' keys make what had already run a no-op.
   */
  committed(stored: readonly RoomEvent[], now: number): void {
    if (stored.some((event) => event.type === "rule.saved" || event.type === "rule.deleted"))
      this.syncClock(now);
    const known = this.#hasEventRules();
    // With no rule known here and a fresh copy of the instance's, nothing can fire; a stale copy
    // is pulled after the commit, so that a rule an admin just saved meets this very batch.
    const { instanceRules } = this.#deps;
    if (
      stored.length === 0 ||
      (!known && instanceRules.version !== undefined && !instanceRules.stale)
    )
      return;
    const row = { first_seq: stored[0]!.seq, last_seq: stored.at(-1)!.seq, at: now };
    // Written down only when a rule known here may fire: a room whose one hope is the instance's
    // rules, not pulled yet since it woke, does not arm its clock for nothing at every wake.
    if (known) {
      this.#sql.exec(
        "INSERT OR REPLACE INTO automation_pending (first_seq, last_seq, at) VALUES (?, ?, ?)",
        row.first_seq,
        row.last_seq,
        row.at,
      );
      this.#deps.changed();
    }
    void this.#carryOut(row, stored);
  }

  /**
   * What `input` would have done over the room's recent events, or when it will fire. As an
   * instance rule (`instance`), its `rooms` condition counts and it acts as the instance's.
   */
  async dryRun(input: RuleInput, now: number, instance = false): Promise<DryRunReport> {
    const rule: EngineRule = { ...input, id: "rl_0000000000000000", instance };
    const { log } = this.#deps;
    const recent = log.range(
      Math.max(0, log.lastSeq - LIMITS_AUTOMATION.dryRunEvents),
      LIMITS_AUTOMATION.dryRunEvents,
    );
    const { budget: _unused, ...ctx } = await this.#context(now, [rule]);
    return dryRun(rule, recent, { ...ctx, nextTimes });
  }

  // ---- the clock's source ----

  /** Brings the timed rules' clock rows in line with the rules (rule-clock.ts). */
  syncClock(now: number): void {
    // Until the instance's rules are known, a row that is no room rule's may be one of theirs.
    const roomRules = new Set(this.#deps.read.rules().map((rule) => rule.id));
    const known = (id: string) =>
      this.#deps.instanceRules.version !== undefined || roomRules.has(id);
    this.#clock.sync(this.#rules(), known, now);
  }

  next(): number | undefined {
    const timed = this.#clock.next();
    const times = this.#pendingRows().map((row) => this.#replayAt(row));
    if (timed !== undefined) times.push(timed);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  due(now: number, limit: number): ClockFiring[] {
    const timed = this.#clock.due(now, limit, () => this.#rules());
    const stranded = this.#pendingRows()
      .filter((row) => !this.#inFlight.has(row.first_seq) && this.#replayAt(row) <= now)
      .slice(0, limit)
      .map((row) => ({ at: this.#replayAt(row), fire: () => this.#replay(row) }));
    return [...timed, ...stranded];
  }

  /**
   * When a pending batch is replayed: REPLAY_AFTER_MS after its commit when nothing in this
   * instance is carrying it out (a crash left it), never while something is (its time moves on,
   * so that the clock comes back to it should this instance crash too).
   */
  #replayAt(row: PendingRow): number {
    return (this.#inFlight.has(row.first_seq) ? Date.now() : row.at) + REPLAY_AFTER_MS;
  }

  /** A batch a crash left pending: its events read back from the log, its firings run again. */
  #replay(row: PendingRow): Promise<void> {
    const events = this.#deps.log.range(row.first_seq - 1, row.last_seq - row.first_seq + 1);
    log.info("rule firings replayed", {
      room: this.#deps.roomName(),
      from: row.first_seq,
      to: row.last_seq,
    });
    return this.#carryOut(row, events);
  }

  /**
   * A batch's firings, queued after the batches before it, with the rules as they are when its
   * turn comes; its pending row crossed off after.
   */
  #carryOut(row: PendingRow, events: readonly RoomEvent[]): Promise<void> {
    this.#inFlight.add(row.first_seq);
    return this.#enqueue(async () => {
      try {
        // The instance's rules once the room has them: a room that just woke waits for them
        // here, after the commit, never in it.
        const all = [...this.#deps.read.rules(), ...(await this.#deps.instanceRules.loaded())];
        const rules = all.filter((rule) => rule.enabled && !isTimed(rule));
        if (rules.length === 0) return;
        const ctx = await this.#context(Date.now(), rules);
        for (const firing of firingsFor(rules, events, ctx)) await this.#run(firing, seqOf(firing));
      } finally {
        this.#sql.exec("DELETE FROM automation_pending WHERE first_seq = ?", row.first_seq);
        this.#inFlight.delete(row.first_seq);
      }
    });
  }

  /** A timed rule's due time: its firing carried out (the clock moves it on after). */
  async #fireTimed(rule: TimedRule, dueAt: number): Promise<void> {
    const firing = firingForTick(rule, dueAt, await this.#context(Date.now(), [rule]));
    if (firing) await this.#run(firing, this.#deps.log.lastSeq);
  }

  // ---- internals ----

  #pendingRows(): PendingRow[] {
    return this.#sql
      .exec<PendingRow>("SELECT * FROM automation_pending ORDER BY first_seq")
      .toArray();
  }

  /** Whether an enabled event rule is known here: the room's own, or the instance's. */
  #hasEventRules(): boolean {
    const some = (rules: readonly EngineRule[]) =>
      rules.some((rule) => rule.enabled && !isTimed(rule));
    return some(this.#deps.read.rules()) || some(this.#deps.instanceRules.current());
  }

  /** The room's own rules, then the instance's that apply here. */
  #rules(): EngineRule[] {
    return [...this.#deps.read.rules(), ...this.#deps.instanceRules.current()];
  }

  /** Runs `work` after everything queued before it; settles when it ran (never rejects). */
  #enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(work).catch((error: unknown) => {
      log.error("automation firing failed", {
        room: this.#deps.roomName(),
        error: errorFields(error),
      });
    });
    this.#queue = next;
    this.#deps.keepAlive(next);
    return next;
  }

  async #context(now: number, rules: readonly EngineRule[]): Promise<EngineContext> {
    const wantsHooks = rules.some((rule) => rule.trigger.on === "webhook");
    return {
      room: this.#deps.roomName(),
      facts: this.#facts(now),
      hookBots: wantsHooks ? await this.#deps.hookBots() : new Map(),
      budget: this.#budget,
      now,
      actedFor: (event) => this.#actedFor.get(event.seq),
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
        const outcome = await this.#step(step, firing, seq);
        if (!outcome.ok)
          log.warn("rule action refused", { ...where, key: step.key, ...outcome.error });
      } catch (error) {
        log.error("rule action failed", { ...where, key: step.key, error: errorFields(error) });
      }
    }
  }

  #step(
    step: ReturnType<typeof stepsToRun>[number],
    firing: Firing,
    seq: number,
  ): Promise<Result<unknown>> {
    const { actor, rule } = firing;
    switch (step.kind) {
      case "command":
        return this.#deps.submit(step.command, actor);
      case "webhook":
        return this.#deps.webhook({
          webhookId: step.webhook,
          key: step.key,
          seq,
          payload: step.payload,
          instance: rule.instance,
        });
      case "plugin":
        return this.#runPlugin(step, firing);
    }
  }

  /**
   * A rule's plugin action: the plugin's slash command, run as the rule. What the plugin's bot
   * writes meanwhile is the rule's own action (loop protection): a `/poll "Lunch?"` run by a rule
   * on "lunch" must not set the rule off again.
   */
  async #runPlugin(
    step: Extract<ReturnType<typeof stepsToRun>[number], { kind: "plugin" }>,
    firing: Firing,
  ): Promise<Result<unknown>> {
    const before = this.#deps.log.lastSeq;
    try {
      const { plugin, command, args, key } = step;
      await this.#deps.plugin({ plugin, command, args, key }, firing.actor);
      return { ok: true, value: undefined };
    } finally {
      this.#noteActedFor(firing.rule.id, step.plugin, before);
    }
  }

  /** Files the events `plugin`'s bot wrote after seq `after` under rule `ruleId`. */
  #noteActedFor(ruleId: string, plugin: string, after: number): void {
    const { log } = this.#deps;
    const bot = pluginActor(this.#deps.roomName(), plugin).id;
    for (const event of log.range(after, log.lastSeq - after))
      if (event.actor.id === bot) this.#actedFor.set(event.seq, ruleId);
    // The oldest first out: only events still to go through the engine need their rule.
    for (const seq of this.#actedFor.keys()) {
      if (this.#actedFor.size <= ACTED_FOR_KEPT) break;
      this.#actedFor.delete(seq);
    }
  }
}

/** The seq a firing's webhook delivery is filed under: its event's. */
const seqOf = (firing: Firing): number =>
  firing.cause.kind === "event" ? firing.cause.event.seq : 0;
