import type * as z from "zod";
import { DryRunReport, type RuleInput } from "../protocol/automation.ts";
import { Posted } from "../protocol/index.ts";
import { RuleList, SavedRule } from "../protocol/rules.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * A room's rules (docs/automation.md, "Rules in the log"), for its moderators, owner and admins:
 * `api.rules(room)`. Each save and delete is an event in the room's log (`rule.saved`,
 * `rule.deleted`) that its sockets see, and that the saver's `undo` takes back. A member gets
 * 403 `forbidden`, anyone who may not see the room 404 `not_found`.
 * @example
 * const { rule } = await api.rules("ops").create({
 *   name: "Incident",
 *   trigger: { on: "message", match: { keywords: ["incident"] } },
 *   actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
 * });
 * await api.rules("ops").save(rule.id, { ...rule, enabled: false });
 */
export class RulesApi {
  readonly #requests: ApiRequests;
  readonly #base: string;
  /** `base` is the collection's path: `/api/rooms/<room>/rules`. */
  constructor(requests: ApiRequests, base: string) {
    this.#requests = requests;
    this.#base = base;
  }

  /** The rules, in the order they were first saved. */
  list() {
    return this.#requests.call(RuleList, "GET", this.#base);
  }

  /** A new rule with an id of the room's choosing; at most 50 per room (403 `quota`). */
  create(rule: z.input<typeof RuleInput>) {
    return this.#requests.call(SavedRule, "POST", this.#base, rule);
  }

  /**
   * Creates or replaces rule `id` (`rl_` and 16 hex) with `rule`, whole. Saving it unchanged
   * logs nothing and answers the room's current seq. Fields of a listed `Rule` that are not the
   * rule's own (`id`, `by`, `savedAt`, `nextAt`) are ignored, so a listed rule may be sent back.
   */
  save(id: string, rule: z.input<typeof RuleInput>) {
    return this.#requests.call(SavedRule, "PUT", this.#one(id), rule);
  }

  /**
   * What `rule` (saved or not) would have done over the room's last 500 events, and for
   * schedule and time triggers its next firings; nothing is posted.
   */
  dryRun(rule: z.input<typeof RuleInput>) {
    return this.#requests.call(DryRunReport, "POST", `${this.#base}/dry-run`, { rule });
  }

  /** Deletes rule `id` (404 when there is none); answers the seq of its `rule.deleted`. */
  delete(id: string) {
    return this.#requests.call(Posted, "DELETE", this.#one(id));
  }

  #one(id: string): string {
    return `${this.#base}/${encodeURIComponent(id)}`;
  }
}
