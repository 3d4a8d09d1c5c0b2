import { unhandled, type EventType, type RoomEvent, type Visibility } from "../protocol/index.ts";

/**
 * What committed events cause beyond the log and its projections. Pure, and keyed by every
 * event type, so that a new type must say what it causes.
 */

/** Who loses sight of the room with `event`: the kicked, the banned, and whoever leaves a private room. */
export function lostAccessBy(
  event: RoomEvent,
  visibility: Visibility,
): { userId: string; banned: boolean } | undefined {
  switch (event.type) {
    case "member.kicked":
      return { userId: event.data.userId, banned: false };
    case "member.banned":
      return { userId: event.data.userId, banned: true };
    case "member.left":
      return visibility === "private" ? { userId: event.actor.id, banned: false } : undefined;
    case "room.created":
    case "room.topic_changed":
    case "room.slow_mode_changed":
    case "room.ownership_transferred":
    case "member.joined":
    case "member.invited":
    case "member.role_changed":
    case "member.unbanned":
    case "member.muted":
    case "member.unmuted":
    case "message.posted":
    case "message.edited":
    case "message.deleted":
    case "message.restored":
    case "message.redacted":
    case "reaction.added":
    case "reaction.removed":
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
    case "message.transcribed":
      return undefined;
    default:
      return unhandled(event);
  }
}

/** Everyone who must have their sockets closed (4403) after `events`. */
export function lostAccess(
  events: readonly RoomEvent[],
  visibility: Visibility,
): { userId: string; banned: boolean }[] {
  return events.flatMap((event) => lostAccessBy(event, visibility) ?? []);
}

/** Which events may change the room's summary in the directory (RoomInfo): every room and member event. */
const CHANGES_SUMMARY = {
  "room.created": true,
  "room.topic_changed": true,
  "room.slow_mode_changed": true,
  "room.ownership_transferred": true,
  "member.joined": true,
  "member.left": true,
  "member.invited": true,
  "member.role_changed": true,
  "member.kicked": true,
  "member.banned": true,
  "member.unbanned": true,
  "member.muted": true,
  "member.unmuted": true,
  "message.posted": false,
  "message.edited": false,
  "message.deleted": false,
  "message.restored": false,
  "message.redacted": false,
  "reaction.added": false,
  "reaction.removed": false,
  "rule.saved": false,
  "rule.deleted": false,
  "plugin.enabled": false,
  "plugin.disabled": false,
  "message.transcribed": false,
} as const satisfies Record<EventType, boolean>;

export const changesSummary = (events: readonly RoomEvent[]) =>
  events.some((event) => CHANGES_SUMMARY[event.type]);
