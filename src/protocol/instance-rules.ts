import * as z from "zod";
import { DryRunReport, Rule } from "./automation.ts";
import { RoomName } from "./names.ts";
import { RuleBody } from "./rules.ts";

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

/** `POST /api/admin/rules/dry-run`: an instance rule (saved or not) and the room to try it on. */
export const InstanceDryRunBody = z.object({ rule: RuleBody, room: RoomName });
export type InstanceDryRunBody = z.infer<typeof InstanceDryRunBody>;

/**
 * What an instance rule would have done in `room` (the room's dry run, docs/automation.md, "Dry
 * run"). `applies` is false when the rule's `rooms` condition leaves the room out: it never runs
 * there, so there are no hits and no upcoming times.
 */
export const InstanceDryRunReport = DryRunReport.extend({
  room: RoomName,
  applies: z.boolean(),
});
export type InstanceDryRunReport = z.infer<typeof InstanceDryRunReport>;
