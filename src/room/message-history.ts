import { unhandled, type Message, type RoomEvent, type UserRef } from "../protocol/index.ts";
import { withTranscript, type MessageAttachment } from "../protocol/attachments.ts";
import { byText } from "./history.ts";

/**
 * One message's past, for time travel (time-travel.ts): its state folded from its own events,
 * and that state as the wire's `Message`, as read-model.ts serves the projection.
 */

/** A message while its events are folded; `toMessage` gives it as the wire's `Message`. */
export type MessageState = {
  id: number;
  author: UserRef;
  text: string;
  at: number;
  editedAt?: number;
  replyTo?: number;
  deleted: boolean;
  redacted: boolean;
  /** Who reacted with what and when, in the order added; a repeat keeps the first. */
  reactions: { emoji: string; userId: string; at: number }[];
  attachments?: MessageAttachment[];
};

/**
 * `message` after one of its own events (`undefined` before its `message.posted`); events of
 * other messages and of the roster leave it as it is. An event whose text a later redaction
 * emptied (`redacted: true`) marks the message redacted at every seq: its text is gone for good.
 */
export function foldMessage(
  message: MessageState | undefined,
  event: RoomEvent,
): MessageState | undefined {
  const scrubbed = event.redacted === true;
  switch (event.type) {
    case "message.posted":
      return {
        id: event.seq,
        author: { id: event.actor.id, name: event.actor.name },
        text: event.data.text,
        at: event.at,
        ...(event.data.replyTo !== undefined ? { replyTo: event.data.replyTo } : {}),
        ...(event.data.attachments ? { attachments: event.data.attachments } : {}),
        deleted: false,
        redacted: scrubbed,
        reactions: [],
      };
    case "message.edited":
      return mine(message, event.data.messageId, (m) => ({
        ...m,
        text: event.data.text,
        editedAt: event.at,
        redacted: m.redacted || scrubbed,
      }));
    case "message.deleted":
      // Its reactions stay, hidden while it is deleted: an undo may restore it.
      return mine(message, event.data.messageId, (m) => ({ ...m, text: "", deleted: true }));
    case "message.restored":
      return mine(message, event.data.messageId, (m) => ({
        ...m,
        text: event.data.text,
        deleted: false,
        redacted: m.redacted || scrubbed,
      }));
    case "message.redacted":
      return mine(message, event.data.messageId, ({ attachments: _gone, ...m }) => ({
        ...m,
        text: "",
        redacted: true,
      }));
    case "message.transcribed":
      return mine(message, event.data.messageId, (m) =>
        m.attachments ? { ...m, attachments: withTranscript(m.attachments, event.data) } : m,
      );
    case "reaction.added": {
      const { emoji } = event.data;
      return mine(message, event.data.messageId, (m) =>
        m.reactions.some((r) => r.emoji === emoji && r.userId === event.actor.id)
          ? m
          : { ...m, reactions: [...m.reactions, { emoji, userId: event.actor.id, at: event.at }] },
      );
    }
    case "reaction.removed": {
      const { emoji } = event.data;
      return mine(message, event.data.messageId, (m) => ({
        ...m,
        reactions: m.reactions.filter((r) => !(r.emoji === emoji && r.userId === event.actor.id)),
      }));
    }
    case "room.created":
    case "room.topic_changed":
    case "room.slow_mode_changed":
    case "room.ownership_transferred":
    case "member.joined":
    case "member.invited":
    case "member.left":
    case "member.kicked":
    case "member.banned":
    case "member.unbanned":
    case "member.muted":
    case "member.unmuted":
    case "member.role_changed":
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
      return message;
    default:
      return unhandled(event);
  }
}

/** Applies `change` when the event is about `message` (and it exists). */
function mine(
  message: MessageState | undefined,
  messageId: number,
  change: (m: MessageState) => MessageState,
): MessageState | undefined {
  return message && message.id === messageId ? change(message) : message;
}

/**
 * The wire's `Message`, as read-model.ts serves the projection: reactions grouped by emoji in
 * the order of (at, user id) and hidden while deleted; the text empty when deleted or redacted.
 */
export function toMessage(m: MessageState): Message {
  const reactions: Record<string, string[]> = {};
  if (!m.deleted)
    for (const r of m.reactions.toSorted((a, b) => a.at - b.at || byText(a.userId, b.userId)))
      (reactions[r.emoji] ??= []).push(r.userId);
  return {
    id: m.id,
    author: m.author,
    text: m.deleted || m.redacted ? "" : m.text,
    at: m.at,
    ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
    ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
    reactions,
    ...(m.deleted ? { deleted: true as const } : {}),
    ...(m.redacted ? { redacted: true as const } : {}),
    ...(m.attachments && !m.deleted && !m.redacted ? { attachments: m.attachments } : {}),
  };
}
