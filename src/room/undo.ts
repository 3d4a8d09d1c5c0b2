import { refusal, type NewEvent, type Refusal, type RoomEvent } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import type { RoomView, UndoableEvent } from "./room-view.ts";
import { mutedRefusal, standingOf } from "./standing.ts";
import { isRuleAction, redoRule, undoRule, type RuleAction } from "./undo-rules.ts";

export type { UndoableEvent } from "./room-view.ts";

/**
 * Undo and redo (docs/audit.md): a user takes back their own last action in a room, or applies
 * again the last one they took back, by logging a compensating event — the log is never
 * rewritten. Each user has an undo stack (their actions, newest on top) and a redo stack (what
 * they undid, latest on top), kept by the `actions` projection; a new action empties the redo
 * stack. Pure: the room reads the stacks, these rules decide.
 */

const UNDOABLE: ReadonlySet<string> = new Set<UndoableEvent["type"]>([
  "message.posted",
  "message.edited",
  "message.deleted",
  "message.restored",
  "reaction.added",
  "reaction.removed",
  "rule.saved",
  "rule.deleted",
]);

export const isUndoable = (event: RoomEvent): event is UndoableEvent => UNDOABLE.has(event.type);

export type UndoDecision = { ok: true; event: NewEvent } | { ok: false; error: Refusal };

const refuse = (code: Refusal["code"], message: string): UndoDecision => ({
  ok: false,
  error: { code, message },
});
const ok = (event: NewEvent): UndoDecision => ({ ok: true, event });

/** An action on a message or a reaction: the rest are rule actions (undo-rules.ts). */
type MessageAction = Exclude<UndoableEvent, RuleAction>;

/** The message an action is about. */
const messageOf = (action: MessageAction) =>
  action.type === "message.posted" ? action.seq : action.data.messageId;

/** Why `actor` cannot touch message `id` now, if they cannot. */
function blocked(
  view: RoomView,
  actor: Actor,
  id: number,
  wanted: "live" | "deleted",
): UndoDecision | undefined {
  const message = view.message(id);
  if (!message) return refuse("not_found", `no message ${id}`);
  if (message.redacted)
    return refuse("conflict", `message ${id} was redacted: it cannot come back`);
  if (message.deleted !== (wanted === "deleted"))
    return refuse(
      "conflict",
      `message ${id} was ${message.deleted ? "deleted" : "restored"} since`,
    );
  if (message.authorId !== actor.id && refusal(standingOf(view, actor), "delete_any"))
    return refuse("forbidden", "only its author or a moderator may change that message");
  return undefined;
}

/** The event that takes `action` back. */
export function compensate(action: UndoableEvent, actor: Actor, view: RoomView): UndoDecision {
  return isRuleAction(action)
    ? undoRule(action, actor, view)
    : compensateMessage(action, actor, view);
}

/** The event that applies `action` again. */
export function reapply(action: UndoableEvent, actor: Actor, view: RoomView): UndoDecision {
  return isRuleAction(action) ? redoRule(action, actor, view) : reapplyMessage(action, actor, view);
}

function compensateMessage(action: MessageAction, actor: Actor, view: RoomView): UndoDecision {
  const id = messageOf(action);
  const undoes = action.seq;
  switch (action.type) {
    case "message.posted":
    case "message.restored":
      return (
        blocked(view, actor, id, "live") ??
        ok({ type: "message.deleted", data: { messageId: id, undoes } })
      );
    case "message.deleted": {
      const text = view.textBefore(id, action.seq);
      return (
        blocked(view, actor, id, "deleted") ??
        ok({ type: "message.restored", data: { messageId: id, text: text ?? "", undoes } })
      );
    }
    case "message.edited": {
      const text = view.textBefore(id, action.seq);
      return (
        blocked(view, actor, id, "live") ??
        (text
          ? ok({ type: "message.edited", data: { messageId: id, text, undoes } })
          : refuse("conflict", `message ${id} has no earlier text`))
      );
    }
    case "reaction.added":
    case "reaction.removed":
      return reaction(action, actor, view, action.type === "reaction.added" ? "removed" : "added", {
        undoes,
      });
  }
}

function reapplyMessage(action: MessageAction, actor: Actor, view: RoomView): UndoDecision {
  const id = messageOf(action);
  const redoes = action.seq;
  switch (action.type) {
    case "message.posted":
    case "message.restored":
      return (
        blocked(view, actor, id, "deleted") ??
        ok({
          type: "message.restored",
          data: { messageId: id, text: view.textBefore(id, Infinity) ?? "", redoes },
        })
      );
    case "message.deleted":
      return (
        blocked(view, actor, id, "live") ??
        ok({ type: "message.deleted", data: { messageId: id, redoes } })
      );
    case "message.edited":
      return (
        blocked(view, actor, id, "live") ??
        ok({ type: "message.edited", data: { messageId: id, text: action.data.text, redoes } })
      );
    case "reaction.added":
    case "reaction.removed":
      return reaction(action, actor, view, action.type === "reaction.added" ? "added" : "removed", {
        redoes,
      });
  }
}

function reaction(
  action: Extract<UndoableEvent, { type: "reaction.added" | "reaction.removed" }>,
  actor: Actor,
  view: RoomView,
  to: "added" | "removed",
  mark: { undoes: number } | { redoes: number },
): UndoDecision {
  const { messageId, emoji } = action.data;
  const message = view.message(messageId);
  if (!message || message.deleted || message.redacted)
    return refuse("conflict", `message ${messageId} is gone: its reactions cannot change`);
  if (view.hasReaction(messageId, emoji, actor.id) === (to === "added"))
    return refuse("conflict", `your ${emoji} on message ${messageId} changed since`);
  return ok({ type: `reaction.${to}`, data: { messageId, emoji, ...mark } });
}

/**
 * Undo or redo for `actor`: the compensating event, or why not. A muted user may only take a
 * message away (as they may delete), not bring one back or react; a rule is not speech, so a
 * mute leaves the undo of rule changes alone.
 */
export function decideUndoRedo(
  which: "undo" | "redo",
  actor: Actor,
  view: RoomView,
  now: number,
): UndoDecision {
  const action = which === "undo" ? view.lastAction(actor.id) : view.lastUndone(actor.id);
  if (!action)
    return refuse(
      "conflict",
      which === "undo" ? "nothing of yours to undo here" : "nothing of yours to redo here",
    );
  const outcome = which === "undo" ? compensate(action, actor, view) : reapply(action, actor, view);
  const muted = mutedRefusal(view, actor.id, now);
  if (muted && outcome.ok && !isRuleAction(action) && outcome.event.type !== "message.deleted")
    return { ok: false, error: muted };
  return outcome;
}
