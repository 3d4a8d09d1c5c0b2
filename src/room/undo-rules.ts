import { refusal, type NewEvent, type Refusal } from "../protocol/index.ts";
import type { LoggedRule } from "../protocol/rules.ts";
import type { Actor } from "../identity/actor.ts";
import { ruleQuota, sameRule } from "./decide-automation.ts";
import type { RoomView, UndoableEvent } from "./room-view.ts";
import { standingOf } from "./standing.ts";

/**
 * Undo and redo of a rule's save or delete (docs/automation.md, "Rules in the log"), under
 * undo.ts's rules: your own last action, taken back by a compensating event. Each action moves
 * its rule from one version to another (none: deleted); its undo moves it back, its redo forth
 * again, and either only while the rule is still as the step before left it: someone else's
 * change since is not overwritten (`conflict`). Only whoever may still manage the rules may.
 */

export type RuleAction = Extract<UndoableEvent, { type: "rule.saved" | "rule.deleted" }>;

type Outcome = { ok: true; event: NewEvent } | { ok: false; error: Refusal };
type Mark = { undoes: number } | { redoes: number };

export const isRuleAction = (action: UndoableEvent): action is RuleAction =>
  action.type === "rule.saved" || action.type === "rule.deleted";

const ruleIdOf = (action: RuleAction) =>
  action.type === "rule.saved" ? action.data.rule.id : action.data.ruleId;

/** The rule as `action` left it: undefined after a delete. */
const leftBy = (action: RuleAction) =>
  action.type === "rule.saved" ? action.data.rule : undefined;

/** The event that takes `action` back: the rule as it was before it (a new rule is deleted). */
export function undoRule(action: RuleAction, actor: Actor, view: RoomView): Outcome {
  const before = view.ruleBefore(ruleIdOf(action), action.seq);
  return moveRule(action, actor, view, leftBy(action), before, { undoes: action.seq });
}

/** The event that applies `action` again, on the rule as its undo left it. */
export function redoRule(action: RuleAction, actor: Actor, view: RoomView): Outcome {
  const before = view.ruleBefore(ruleIdOf(action), action.seq);
  return moveRule(action, actor, view, before, leftBy(action), { redoes: action.seq });
}

/** Moves the rule of `action` from version `from` to version `to` (undefined: none). */
function moveRule(
  action: RuleAction,
  actor: Actor,
  view: RoomView,
  from: LoggedRule | undefined,
  to: LoggedRule | undefined,
  mark: Mark,
): Outcome {
  const denied = refusal(standingOf(view, actor), "manage_rules");
  if (denied) return { ok: false, error: denied };
  const id = ruleIdOf(action);
  if (!sameRule(view.rule(id), from) || (from === undefined && to === undefined))
    return conflict(`rule ${id} was changed since`);
  if (to === undefined)
    return {
      ok: true,
      event: { type: "rule.deleted", data: { ruleId: id, name: from!.name, ...mark } },
    };
  const full = from === undefined ? ruleQuota(view) : undefined;
  if (full) return { ok: false, error: full };
  return { ok: true, event: { type: "rule.saved", data: { rule: to, ...mark } } };
}

const conflict = (message: string): Outcome => ({
  ok: false,
  error: { code: "conflict", message },
});
