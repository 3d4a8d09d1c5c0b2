import type * as z from "zod";
import type { RuleInput } from "../protocol/automation.ts";
import {
  InstanceDryRunReport,
  InstanceRuleChange,
  InstanceRuleList,
} from "../protocol/instance-rules.ts";
import type { ApiRequests } from "./requests.ts";

const BASE = "/api/admin/rules";

/**
 * The instance's rules (docs/automation.md, "Instance rules"), for admins: `api.admin.rules`.
 * An instance rule runs in every room its `conditions.rooms` names (all rooms without it); rooms
 * pick a change up within 30 s. Anyone else gets 403 `forbidden`.
 * @example
 * const { rule } = await api.admin.rules.create({
 *   name: "Incident everywhere",
 *   trigger: { on: "message", match: { keywords: ["incident"] } },
 *   actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
 * });
 * await api.admin.rules.save(rule.id, { ...rule, conditions: { rooms: ["ops"] } });
 * const { hits, applies } = await api.admin.rules.dryRun(rule, "ops");
 */
export class InstanceRulesApi {
  readonly #requests: ApiRequests;
  constructor(requests: ApiRequests) {
    this.#requests = requests;
  }

  /** Every instance rule, in the order they were first saved, and the rules' version. */
  list() {
    return this.#requests.call(InstanceRuleList, "GET", BASE);
  }

  /** A new rule with a new id; at most 50 (403 `quota`). */
  create(rule: z.input<typeof RuleInput>) {
    return this.#requests.call(InstanceRuleChange, "POST", BASE, rule);
  }

  /**
   * Creates or replaces rule `id` (`rl_` and 16 hex) with `rule`, whole; unchanged, it changes
   * nothing. A listed `Rule` may be sent back: its `id`, `by`, `savedAt` are ignored.
   */
  save(id: string, rule: z.input<typeof RuleInput>) {
    return this.#requests.call(InstanceRuleChange, "PUT", this.#one(id), rule);
  }

  /**
   * What `rule` (saved or not) would have done as an instance rule over `room`'s last 500 events,
   * and for schedule and time triggers its next firings; nothing is posted. A room its `rooms`
   * condition leaves out answers `applies: false` and no hits.
   */
  dryRun(rule: z.input<typeof RuleInput>, room: string) {
    return this.#requests.call(InstanceDryRunReport, "POST", `${BASE}/dry-run`, { rule, room });
  }

  /** Deletes rule `id` (404 when there is none); answers it as it was. */
  delete(id: string) {
    return this.#requests.call(InstanceRuleChange, "DELETE", this.#one(id));
  }

  #one(id: string): string {
    return `${BASE}/${encodeURIComponent(id)}`;
  }
}
