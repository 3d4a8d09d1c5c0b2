import { LIMITS_AUTOMATION, type Rule, type RuleInput } from "../protocol/automation.ts";
import { contentHashOf, type Result, type UserRef } from "../protocol/index.ts";
import { LoggedRule } from "../protocol/rules.ts";
import { randomHex } from "./webhooks.ts";

type RuleRow = {
  id: string;
  json: string;
  saved_by: string;
  saved_by_name: string;
  saved_at: number;
  position: number;
};

/**
 * What a room pulls (`IntegrationHub.instanceRules`): the rules' version, and the rules
 * themselves unless the room already holds that version (`since`), so that a room asking every
 * 30 s costs one row read while nothing changes.
 */
export type InstanceRulesPull = { version: number; rules?: Rule[] };

export type SavedInstanceRule = { rule: Rule; version: number; changed: boolean };

/** Whether the instance has an outgoing webhook of this id (a `webhook` action names one). */
export type WebhookExists = (id: string) => boolean;

const refuse = (code: "bad_request" | "not_found" | "quota", message: string) =>
  ({ ok: false, error: { code, message } }) as const;

/**
 * The instance's rules in its hub's SQLite (docs/automation.md, "Instance rules"): admins'
 * rules that apply to every room their `rooms` condition names. A rule keeps its place (the
 * version that created it) when it is replaced; every change bumps one version number, which the
 * rooms pull by. The routes check what zod and `ruleProblems` can; this part keeps the rest
 * true whoever calls the hub: the shape, the quota, and that a webhook action names one of the
 * instance's webhooks.
 */
export class InstanceRules {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  version(): number {
    return this.#sql.exec<{ version: number }>("SELECT version FROM instance_rules_version").one()
      .version;
  }

  /** Every rule, in the order they were first saved. */
  list(): Rule[] {
    return this.#sql
      .exec<RuleRow>("SELECT * FROM instance_rules ORDER BY position, id")
      .toArray()
      .map(wire);
  }

  /** The rules for a room that holds version `since` (none: it holds nothing yet). */
  pull(since: number | undefined): InstanceRulesPull {
    const version = this.version();
    return since === version ? { version } : { version, rules: this.list() };
  }

  /**
   * Creates or replaces rule `id` (a new random id without one) with `input`, whole, as saved by
   * `by`. Saving a rule unchanged (canonical JSON: key order does not count) changes nothing:
   * neither its saver nor the version.
   */
  save(
    id: string | undefined,
    input: RuleInput,
    by: UserRef,
    now: number,
    webhookExists: WebhookExists,
  ): Result<SavedInstanceRule> {
    const ruleId = id ?? this.#newId();
    const parsed = LoggedRule.safeParse({ ...input, id: ruleId });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse("bad_request", `${issue?.path.join(".") ?? ""}: ${issue?.message}`);
    }
    const rule = parsed.data;
    const missing = missingWebhooks(rule, webhookExists);
    if (missing.length > 0) return refuse("bad_request", missing.join("; "));
    const existing = this.#row(ruleId);
    if (
      existing &&
      contentHashOf(LoggedRule.parse(JSON.parse(existing.json))) === contentHashOf(rule)
    )
      return { ok: true, value: { rule: wire(existing), version: this.version(), changed: false } };
    if (!existing && this.#count() >= LIMITS_AUTOMATION.rulesPerInstance)
      return refuse(
        "quota",
        `the instance has ${LIMITS_AUTOMATION.rulesPerInstance} rules, its limit: delete one first`,
      );
    const version = this.#storage.transactionSync(() => {
      const next = this.#bump();
      this.#sql.exec(
        `INSERT INTO instance_rules (id, json, saved_by, saved_by_name, saved_at, position)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET json = excluded.json, saved_by = excluded.saved_by,
           saved_by_name = excluded.saved_by_name, saved_at = excluded.saved_at`,
        ruleId,
        JSON.stringify(rule),
        by.id,
        by.name,
        now,
        next,
      );
      return next;
    });
    return { ok: true, value: { rule: wire(this.#row(ruleId)!), version, changed: true } };
  }

  /** Deletes rule `id`; answers it as it was. */
  remove(id: string): Result<{ rule: Rule; version: number }> {
    const row = this.#row(id);
    if (!row) return refuse("not_found", `no instance rule ${id}`);
    const version = this.#storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM instance_rules WHERE id = ?", id);
      return this.#bump();
    });
    return { ok: true, value: { rule: wire(row), version } };
  }

  #bump(): number {
    return this.#sql
      .exec<{ version: number }>(
        "UPDATE instance_rules_version SET version = version + 1 RETURNING version",
      )
      .one().version;
  }

  #row(id: string): RuleRow | undefined {
    return this.#sql.exec<RuleRow>("SELECT * FROM instance_rules WHERE id = ?", id).toArray()[0];
  }

  #count(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM instance_rules").one().n;
  }

  #newId(): string {
    for (;;) {
      const id = `rl_${randomHex(8)}`;
      if (!this.#row(id)) return id;
    }
  }
}

/** A `webhook` action names one of the instance's own webhooks (a room's are not reachable). */
function missingWebhooks(rule: LoggedRule, webhookExists: WebhookExists): string[] {
  return rule.actions.flatMap((action, index) =>
    action.do === "webhook" && !webhookExists(action.webhook)
      ? [
          `actions.${index}.webhook: the instance has no webhook ${action.webhook} ` +
            "(an instance rule's webhook action names one of /api/admin/webhooks)",
        ]
      : [],
  );
}

/** A stored rule as listed. Storage is read, never trusted: the rule is parsed again. */
function wire(row: RuleRow): Rule {
  return {
    ...LoggedRule.parse(JSON.parse(row.json)),
    by: { id: row.saved_by, name: row.saved_by_name },
    savedAt: row.saved_at,
  };
}
