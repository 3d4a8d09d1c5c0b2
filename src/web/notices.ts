import { unhandled, type RoomEvent } from "../client/index.ts";

/**
 * The timeline's line for an event that is no message (a join, a topic, a moderation), or
 * undefined when it has none. `name` finds a member's name by id, as known before the event.
 */
export function noticeText(event: RoomEvent, name: (userId: string) => string): string | undefined {
  const by = event.actor.name;
  switch (event.type) {
    case "member.joined":
      return `${by} joined`;
    case "member.left":
      return `${by} left`;
    case "room.topic_changed":
      return `${by} changed the topic`;
    case "room.slow_mode_changed":
      return event.data.seconds
        ? `${by} turned on slow mode: one message every ${event.data.seconds} s`
        : `${by} turned off slow mode`;
    case "member.invited":
      return `${by} invited ${event.data.user.name} as ${event.data.role}`;
    case "member.role_changed":
      return `${by} made ${name(event.data.userId)} a ${event.data.role}`;
    case "member.kicked":
      return `${by} removed ${name(event.data.userId)}`;
    case "member.banned":
      return `${by} banned ${name(event.data.userId)}`;
    case "member.unbanned":
      return `${by} unbanned ${name(event.data.userId)}`;
    case "member.muted":
      return `${by} muted ${name(event.data.userId)} until ${new Date(event.data.until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    case "member.unmuted":
      return `${by} unmuted ${name(event.data.userId)}`;
    case "room.ownership_transferred":
      return `${by} handed the room to ${name(event.data.userId)}`;
    case "message.redacted":
      return `${by} redacted a message`;
    case "rule.saved":
      return `${by} saved rule ${event.data.rule.name}`;
    case "rule.deleted":
      return `${by} deleted rule ${event.data.name}`;
    case "plugin.enabled":
      return `${by} turned on plugin ${event.data.plugin}`;
    case "plugin.disabled":
      return `${by} turned off plugin ${event.data.plugin}`;
    case "room.created":
    case "message.posted":
    case "message.edited":
    case "message.deleted":
    case "message.restored":
    case "reaction.added":
    case "reaction.removed":
    case "message.transcribed":
      return undefined;
    default:
      return unhandled(event);
  }
}
