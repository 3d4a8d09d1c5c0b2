import * as z from "zod";
import { Rule, RuleId, RuleInput, RoomPluginState } from "./automation.ts";

/**
 * Additions: a room's rules and plugin enablement as events in its log (docs/automation.md,
 * "Rules in the log"): the rule as `rule.saved` carries it, the REST bodies and answers.
 */

/** Whether every string inside `value` is valid Unicode (no lone surrogate). */
function allWellFormed(value: unknown): boolean {
  if (typeof value === "string") return value.isWellFormed();
  if (Array.isArray(value)) return value.every(allWellFormed);
  if (value && typeof value === "object") return Object.values(value).every(allWellFormed);
  return true;
}

const NOT_UNICODE = "a rule's texts must be valid Unicode (a lone surrogate)";

/**
 * A rule as it is written, in valid Unicode only: the log's hash chain hashes RFC 8785 canonical
 * JSON, which has no form for a lone surrogate, so one is a 400 here and never reaches the room.
 */
export const RuleBody = RuleInput.refine(allWellFormed, NOT_UNICODE);

/** A rule as `rule.saved` logs it: the input, defaults applied, and its id. */
export const LoggedRule = RuleInput.extend({ id: RuleId }).refine(allWellFormed, NOT_UNICODE);
export type LoggedRule = z.infer<typeof LoggedRule>;

export const RuleList = z.object({
  /** In the order they were first saved (a rule keeps its place when replaced or restored). */
  rules: z.array(Rule),
});
export type RuleList = z.infer<typeof RuleList>;

/** The answer to a save: the rule as stored, and the seq of its `rule.saved` (the room's last seq when unchanged). */
export const SavedRule = z.object({ rule: Rule, seq: z.number().int().nonnegative() });
export type SavedRule = z.infer<typeof SavedRule>;

/** A plugin's state in one room: on or off, and since when (the event's time). */
export const RoomPlugin = RoomPluginState.extend({ at: z.number() });
export const RoomPluginList = z.object({ plugins: z.array(RoomPlugin) });
export type RoomPluginList = z.infer<typeof RoomPluginList>;
