import * as z from "zod";
import { Rule } from "./automation.ts";

/**
 * Additions: the instance's rules, an admin's (docs/automation.md, "Instance rules"). Kept in the
 * instance's IntegrationHub beside its webhooks, not in any room's log; each change bumps the
 * rules' `version`, which the rooms pull by.
 */

/** `GET /api/admin/rules`: every instance rule, in the order they were first saved. */
export const InstanceRuleList = z.object({
  rules: z.array(Rule),
  /** Bumped by every change to the instance's rules (a save that changed nothing leaves it). */
  version: z.number().int().nonnegative(),
});
export type InstanceRuleList = z.infer<typeof InstanceRuleList>;

/** The answer to a save (the rule as stored) or a delete (the rule as it was), and the version after it. */
export const InstanceRuleChange = z.object({
  rule: Rule,
  version: z.number().int().nonnegative(),
});
export type InstanceRuleChange = z.infer<typeof InstanceRuleChange>;
