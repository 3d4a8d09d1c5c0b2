import type { EngineRule } from "../automation/engine.ts";
import type { Rule } from "../protocol/automation.ts";
import { roomConfig } from "../config.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * How long the instance's rules are trusted before the room asks again (the feed's 30 s): the
 * config's default; a room reads INSTANCE_RULES_TTL_MS, which may only shorten it.
 */
export const INSTANCE_RULES_TTL_MS = roomConfig({}).INSTANCE_RULES_TTL_MS;
/** After a failed pull, how long before the next try: the hub is not asked on every event. */
export const INSTANCE_RULES_RETRY_MS = 5_000;

/**
 * What the cache asks the instance's hub (`IntegrationHub.instanceRules`): the rules' version,
 * and the rules unless `since` is that version already.
 */
export type InstanceRulesPull = (
  since: number | undefined,
) => Promise<{ version: number; rules?: readonly Rule[] }>;

export type InstanceRuleCacheOptions = {
  /** The room's name, once it has one: rules whose `rooms` leave it out are not its. */
  room: () => string | undefined;
  /** Keeps the object alive while a pull runs in the background (the room's `ctx.waitUntil`). */
  keepAlive?: (work: Promise<unknown>) => void;
  /** ms since the epoch; `Date.now` unless a test says otherwise. */
  now?: () => number;
  /** How long a pulled copy is trusted (ms): INSTANCE_RULES_TTL_MS unless the config shortens it. */
  ttlMs?: number;
  /**
   * After a pull that brought another version (the first one included): what the room does when
   * the instance's rules change under it, such as putting their schedules on its clock.
   */
  changed?: () => void;
};

/**
 * The instance's rules as one room sees them (docs/automation.md, "Instance rules"): an admin's
 * rules live in the instance's IntegrationHub, not in the room's log, so the room keeps a copy
 * and asks again at most every 30 s, like the integration feed's instance types. Asking never
 * blocks: `current()` answers what the room has at once (nothing before the first answer) and
 * starts a pull in the background when its copy is stale; one pull runs at a time, a failed one
 * keeps the old copy and is tried again 5 s later. A pull that finds the version unchanged
 * transfers no rules; one that brings another version calls `changed`.
 *
 * The rules come out as the engine reads them (`EngineRule`, `instance: true`), only those whose
 * `conditions.rooms` name this room or that have none (the engine checks the condition again).
 */
export class InstanceRuleCache {
  readonly #pull: InstanceRulesPull;
  readonly #room: () => string | undefined;
  readonly #keepAlive: (work: Promise<unknown>) => void;
  readonly #now: () => number;
  readonly #changed: () => void;
  readonly #ttlMs: number;
  #rules: EngineRule[] = [];
  #version: number | undefined;
  /** When the copy goes stale (ms): 0 until the first pull. */
  #staleAt = 0;
  #pulling: Promise<void> | undefined;

  constructor(pull: InstanceRulesPull, options: InstanceRuleCacheOptions) {
    this.#pull = pull;
    this.#room = options.room;
    this.#keepAlive = options.keepAlive ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#changed = options.changed ?? (() => {});
    this.#ttlMs = options.ttlMs ?? INSTANCE_RULES_TTL_MS;
  }

  /** The version of the rules held; undefined before the first successful pull. */
  get version(): number | undefined {
    return this.#version;
  }

  /** Whether the copy is due for a pull (always, before the first). */
  get stale(): boolean {
    return this.#now() >= this.#staleAt;
  }

  /** The instance's rules for this room, as held now; a background pull starts if they are stale. */
  current(): EngineRule[] {
    if (this.#now() >= this.#staleAt && !this.#pulling) this.#keepAlive(this.refresh());
    return this.#forRoom();
  }

  /**
   * The rules as pulled no longer than the time to live ago (a pull first when they are stale):
   * for work that runs after a commit and may wait, so that the first events after the room
   * wakes, and a rule an admin just saved, meet the instance's rules. Never for the commit
   * itself. After a failed pull, what it has (nothing before the first).
   */
  async loaded(): Promise<EngineRule[]> {
    if (this.stale) await this.refresh();
    return this.current();
  }

  /** Pulls now (or joins the pull under way). Never rejects: a failure is logged and retried later. */
  refresh(): Promise<void> {
    this.#pulling ??= this.#pullOnce().finally(() => (this.#pulling = undefined));
    return this.#pulling;
  }

  async #pullOnce(): Promise<void> {
    let answer: Awaited<ReturnType<InstanceRulesPull>>;
    try {
      answer = await this.#pull(this.#version);
    } catch (error) {
      this.#staleAt = this.#now() + INSTANCE_RULES_RETRY_MS;
      log.warn("instance rules not pulled, will retry", { error: errorFields(error) });
      return;
    }
    this.#staleAt = this.#now() + this.#ttlMs;
    if (!answer.rules) return;
    this.#rules = answer.rules.map(engineRule);
    this.#version = answer.version;
    try {
      this.#changed();
    } catch (error) {
      log.error("instance rules' change not applied", { error: errorFields(error) });
    }
  }

  #forRoom(): EngineRule[] {
    const room = this.#room();
    if (room === undefined) return [];
    return this.#rules.filter(
      (rule) => rule.conditions.rooms === undefined || rule.conditions.rooms.includes(room),
    );
  }
}

/** A listed rule as the engine reads it: the rule's own fields, marked the instance's. */
function engineRule(rule: Rule): EngineRule {
  const { id, name, enabled, trigger, conditions, actions } = rule;
  return { id, name, enabled, trigger, conditions, actions, instance: true };
}
