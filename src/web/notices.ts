import type { RoomEvent } from "../client/index.ts";

/** The timeline's line for a membership or moderation event, or undefined when it has none. */
export function memberNotice(
  event: RoomEvent,
  name: (userId: string) => string,
): string | undefined {
  const by = event.actor.name;
  switch (event.type) {
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
    default:
      return undefined;
  }
}

export function slowModeNotice(by: string, seconds: number): string {
  return seconds
    ? `${by} turned on slow mode: one message every ${seconds} s`
    : `${by} turned off slow mode`;
}
