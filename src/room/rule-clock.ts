import { nextTimes, type TimedTrigger } from "../automation/cron.ts";
import type { EngineRule } from "../automation/engine.ts";
import type { Firing as ClockFiring } from "./clock.ts";

type ClockRow = { rule_id: string; trigger: string; at: number };

export type TimedRule = EngineRule & { trigger: TimedTrigger };

export const isTimed = (rule: EngineRule): rule is TimedRule =>
  rule.trigger.on === "schedule" || rule.trigger.on === "time";

/**
 * Each timed rule's next time (docs/automation.md, "Timed rules and plugin jobs on the clock"), in
 * `rule_clock`, apart from the rules (a projection of the log) because firing moves it, not an
 * event. A due time is fired by `fire`, then the rule moves to its next time after both that time
 * and now (a rule down for a week fires once); a `time` rule's row is then deleted.
 */
export class RuleClock {
  readonly #sql: SqlStorage;
  readonly #fire: (rule: TimedRule, dueAt: number) => Promise<void>;
  readonly #changed: () => void;

  constructor(
    sql: SqlStorage,
    fire: (rule: TimedRule, dueAt: number) => Promise<void>,
    changed: () => void,
  ) {
    this.#sql = sql;
    this.#fire = fire;
    this.#changed = changed;
  }

  /** Each timed rule's next time, by rule id. */
  times(): Map<string, number> {
    return new Map(this.#rows().map((row) => [row.rule_id, row.at]));
  }

  /**
   * Brings the rows in line with `rules`: a new or changed timed rule gets its next time after
   * `now`, a deleted or disabled one loses its row; a row whose trigger is unchanged keeps its
   * time, so that a due firing missed while the room was down still fires once. A row `known`
   * does not vouch for (an instance rule's, before the room has the instance's rules) is kept.
   */
  sync(rules: readonly EngineRule[], known: (ruleId: string) => boolean, now: number): void {
    const timed = new Map(
      rules
        .filter((rule) => rule.enabled && isTimed(rule))
        .map((rule) => [rule.id, JSON.stringify(rule.trigger)]),
    );
    const rows = new Map(this.#rows().map((row) => [row.rule_id, row]));
    let changed = false;
    for (const [id, row] of rows)
      if (timed.get(id) !== row.trigger && known(id)) {
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
    if (changed) this.#changed();
  }

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM rule_clock").one().at ??
      undefined
    );
  }

  /** What is due up to `now`; `rules` says what each row's rule is when it fires. */
  due(now: number, limit: number, rules: () => readonly EngineRule[]): ClockFiring[] {
    return this.#sql
      .exec<ClockRow>("SELECT * FROM rule_clock WHERE at <= ? ORDER BY at LIMIT ?", now, limit)
      .toArray()
      .map((row) => ({ at: row.at, fire: () => this.#fireRow(row, rules()) }));
  }

  async #fireRow(row: ClockRow, rules: readonly EngineRule[]): Promise<void> {
    const rule = rules.find((candidate) => candidate.id === row.rule_id);
    const timed = rule && isTimed(rule) ? rule : undefined;
    if (timed) await this.#fire(timed, row.at);
    const next = timed ? nextTimes(timed.trigger, Math.max(row.at, Date.now()), 1)[0] : undefined;
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

  #rows(): ClockRow[] {
    return this.#sql.exec<ClockRow>("SELECT * FROM rule_clock").toArray();
  }
}
