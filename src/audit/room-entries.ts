import {
  unhandled,
  type AuditEntryInput,
  type AuditTarget,
  type RoomEvent,
} from "../protocol/index.ts";

/**
 * The instance audit log's entries for a room's committed events: moderation and room changes,
 * not chat. Pure, and exhaustive over event types, so that a new type must be decided here.
 * The room knows no client address: `ip` is null. `ref` is the event's id, so that a resend
 * after a failed call records nothing twice.
 */
export function auditEntriesOf(room: string, events: readonly RoomEvent[]): AuditEntryInput[] {
  return events.flatMap((event) => {
    const found = entryOf(room, event);
    if (!found) return [];
    const { action, target, data } = found;
    const actor = { id: event.actor.id, name: event.actor.name };
    return [
      {
        at: event.at,
        actor,
        action,
        target,
        ip: null,
        data: { ...data, roomSeq: event.seq },
        ref: event.id,
      },
    ];
  });
}

/** An undo's or redo's mark, when the event is one: the seq of the action it takes back or applies again. */
const marks = (data: { undoes?: number | undefined; redoes?: number | undefined }) => ({
  ...(data.undoes === undefined ? {} : { undoes: data.undoes }),
  ...(data.redoes === undefined ? {} : { redoes: data.redoes }),
});

type Found = Pick<AuditEntryInput, "action" | "data"> & { target: AuditTarget };

function entryOf(room: string, event: RoomEvent): Found | undefined {
  const user = (userId: string): AuditTarget => ({ room, user: userId });
  switch (event.type) {
    case "room.created":
      return { action: event.type, target: { room }, data: { visibility: event.data.visibility } };
    case "room.topic_changed":
      return { action: event.type, target: { room }, data: { topic: event.data.topic } };
    case "room.slow_mode_changed":
      return { action: event.type, target: { room }, data: { seconds: event.data.seconds } };
    case "room.ownership_transferred":
      return {
        action: event.type,
        target: user(event.data.userId),
        data: { from: event.data.from ?? null },
      };
    case "member.invited":
      return {
        action: event.type,
        target: user(event.data.user.id),
        data: { name: event.data.user.name, role: event.data.role },
      };
    case "member.role_changed":
      return {
        action: event.type,
        target: user(event.data.userId),
        data: { role: event.data.role },
      };
    case "member.muted":
      return {
        action: event.type,
        target: user(event.data.userId),
        data: { until: event.data.until },
      };
    case "member.kicked":
    case "member.banned":
    case "member.unbanned":
    case "member.unmuted":
      return { action: event.type, target: user(event.data.userId), data: {} };
    // The event does not say whose message it was: every deletion is recorded, with its actor.
    case "message.deleted":
    case "message.restored":
      return { action: event.type, target: { room, message: event.data.messageId }, data: {} };
    case "message.redacted":
      return {
        action: event.type,
        target: { room, message: event.data.messageId },
        data: event.data.reason === undefined ? {} : { reason: event.data.reason },
      };
    case "rule.saved":
      return {
        action: event.type,
        target: { room },
        data: { rule: event.data.rule.id, name: event.data.rule.name, ...marks(event.data) },
      };
    case "rule.deleted":
      return {
        action: event.type,
        target: { room },
        data: { rule: event.data.ruleId, name: event.data.name, ...marks(event.data) },
      };
    case "plugin.enabled":
    case "plugin.disabled":
      return { action: event.type, target: { room }, data: { plugin: event.data.plugin } };
    case "member.joined":
    case "member.left":
    case "message.posted":
    case "message.edited":
    case "reaction.added":
    case "reaction.removed":
    case "message.transcribed":
      return undefined;
    default:
      return unhandled(event);
  }
}
