import { unhandled, type EventType, type RoomEvent } from "../client/index.ts";
import {
  settle,
  withMembers,
  type ChatEffect,
  type ChatState,
  type Seen,
  type Step,
} from "./chat-model.ts";
import { nameOf } from "./members-state.ts";
import { noticeText } from "./notices.ts";
import { applyToTimeline, unloaded } from "./timeline.ts";

/**
 * What a room event does to the open room, beyond the timeline and the members: the notice it
 * leaves, the divider, the pending posts it settles, and what the DOM side must do after it.
 */

/**
 * The events after which the member list is loaded again, shortly: they apply here at once, and
 * the server's list then brings what they do not say (someone this browser had not listed yet).
 */
const RELOADS_MEMBERS = {
  "room.created": false,
  "room.topic_changed": false,
  "room.slow_mode_changed": false,
  "room.ownership_transferred": true,
  "member.joined": false,
  "member.left": false,
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

/** The room's own fields an event changes: its topic and slow mode. */
function roomFields(state: ChatState, event: RoomEvent): ChatState {
  switch (event.type) {
    case "room.topic_changed":
      return { ...state, topic: event.data.topic };
    case "room.slow_mode_changed":
      return { ...state, slowModeSeconds: event.data.seconds };
    case "room.created":
    case "room.ownership_transferred":
    case "member.joined":
    case "member.left":
    case "member.invited":
    case "member.role_changed":
    case "member.kicked":
    case "member.banned":
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
      return state;
    default:
      return unhandled(event);
  }
}

/** A live event (or one that waited for a page) applied to the room. */
export function applyEvent(state: ChatState, event: RoomEvent, seen: Seen): Step {
  const timeline = applyToTimeline(state.timeline, event);
  let next: ChatState = roomFields(
    { ...withMembers(state, { type: "event", event }), timeline },
    event,
  );
  const effects: ChatEffect[] = [];
  let scroll = false;
  // The message this event posted, unless a page had brought it already.
  const posted = state.timeline.messages.has(event.seq)
    ? undefined
    : timeline.messages.get(event.seq);
  if (posted) {
    const mine = posted.author.id === state.members.you;
    effects.push({ kind: "stop-typing", userId: posted.author.id });
    // A message that came while you looked away starts the unread part.
    if (!mine && next.dividerAt === undefined && next.readSeq !== undefined && !seen.visible)
      next = { ...next, dividerAt: posted.id };
    next = { ...next, pending: settle(next.pending, timeline) };
    scroll = mine || seen.atBottom;
  }
  // Names as they were before the event: a banned member is still known by name.
  const text = noticeText(event, (id) => nameOf(state.members, id));
  if (text !== undefined && !unloaded(state.timeline, event.seq)) {
    const notice = { seq: event.seq, at: event.at, text };
    next = { ...next, notices: new Map(next.notices).set(event.seq, notice) };
    scroll ||= seen.atBottom;
  }
  if (scroll) effects.push({ kind: "scroll-to-bottom" });
  if (RELOADS_MEMBERS[event.type]) effects.push({ kind: "reload-members" });
  effects.push({ kind: "check-read" });
  return { state: next, effects };
}
