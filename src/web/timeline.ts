import {
  unhandled,
  withTranscript,
  type Message,
  type MessageAttachment,
  type MessagesPage,
  type RoomEvent,
  type UserRef,
} from "../client/index.ts";

/**
 * A message as the view keeps it. Models are never changed in place: an event makes a new one,
 * so the DOM side redraws exactly the messages whose model is no longer the one it drew.
 */
export type MessageModel = {
  readonly id: number;
  readonly author: UserRef;
  readonly text: string;
  readonly at: number;
  readonly editedAt?: number;
  readonly replyTo?: number;
  /** Who reacted with each emoji: sets, so that replaying an event changes nothing twice. */
  readonly reactions: ReadonlyMap<string, ReadonlySet<string>>;
  readonly deleted: boolean;
  /** Its text was redacted for good. */
  readonly redacted: boolean;
  /** Its files, each voice one with its transcript once it came (docs/attachments.md). */
  readonly attachments?: readonly MessageAttachment[];
};

/**
 * The room's messages as far as they are loaded, keyed by id (= the seq of message.posted).
 * History pages (HTTP) and live events (WebSocket) may overlap: merging a page replaces the
 * messages it holds, and applying an event is idempotent, so replaying one in order is harmless.
 */
export type Timeline = {
  readonly messages: ReadonlyMap<number, MessageModel>;
  /** The `before` for the next older page; null once the first message is loaded. */
  readonly nextBefore: number | null;
  /** Whether any page was loaded yet. */
  readonly loaded: boolean;
};

export const emptyTimeline: Timeline = { messages: new Map(), nextBefore: null, loaded: false };

export function fromMessage(message: Message): MessageModel {
  const reactions = new Map<string, ReadonlySet<string>>();
  for (const [emoji, users] of Object.entries(message.reactions))
    if (users.length) reactions.set(emoji, new Set(users));
  return {
    id: message.id,
    author: message.author,
    text: message.text,
    at: message.at,
    ...(message.editedAt === undefined ? {} : { editedAt: message.editedAt }),
    ...(message.replyTo === undefined ? {} : { replyTo: message.replyTo }),
    reactions,
    deleted: message.deleted === true,
    redacted: message.redacted === true,
    ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
  };
}

/** Merges a page (the newest, or the one before `nextBefore`). */
export function mergePage(timeline: Timeline, page: MessagesPage): Timeline {
  const messages = new Map(timeline.messages);
  for (const message of page.messages) messages.set(message.id, fromMessage(message));
  return { messages, nextBefore: page.nextBefore, loaded: true };
}

/** Whether a seq falls below what is loaded (older history that paging will bring). */
export function unloaded(timeline: Timeline, seq: number): boolean {
  return timeline.nextBefore !== null && seq < timeline.nextBefore;
}

/** The timeline after `event`: the same object when the event changes no loaded message. */
export function applyToTimeline(timeline: Timeline, event: RoomEvent): Timeline {
  switch (event.type) {
    case "message.posted": {
      if (timeline.messages.has(event.seq) || unloaded(timeline, event.seq)) return timeline;
      return withMessage(timeline, {
        id: event.seq,
        author: event.actor,
        text: event.data.text,
        at: event.at,
        ...(event.data.replyTo === undefined ? {} : { replyTo: event.data.replyTo }),
        reactions: new Map(),
        deleted: false,
        redacted: event.redacted === true,
        ...(event.data.attachments === undefined ? {} : { attachments: event.data.attachments }),
      });
    }
    case "message.edited":
      return change(timeline, event.data.messageId, (m) => ({
        ...m,
        text: event.data.text,
        editedAt: event.at,
      }));
    case "message.deleted":
      // Its reactions stay, hidden while it is deleted: an undo may restore it.
      return change(timeline, event.data.messageId, (m) =>
        m.deleted ? m : { ...m, deleted: true, text: "" },
      );
    case "message.restored":
      return change(timeline, event.data.messageId, (m) => ({
        ...m,
        deleted: false,
        text: event.data.text,
      }));
    case "message.redacted":
      return change(timeline, event.data.messageId, ({ attachments: _gone, ...m }) =>
        m.redacted ? m : { ...m, redacted: true, text: "" },
      );
    case "message.transcribed":
      return change(timeline, event.data.messageId, (m) =>
        m.attachments ? { ...m, attachments: withTranscript(m.attachments, event.data) } : m,
      );
    case "reaction.added":
    case "reaction.removed":
      return change(timeline, event.data.messageId, (m) => {
        const on = event.type === "reaction.added";
        const users = m.reactions.get(event.data.emoji) ?? new Set<string>();
        if (users.has(event.actor.id) === on) return m;
        const next = new Set(users);
        if (on) next.add(event.actor.id);
        else next.delete(event.actor.id);
        const reactions = new Map(m.reactions);
        if (next.size) reactions.set(event.data.emoji, next);
        else reactions.delete(event.data.emoji);
        return { ...m, reactions };
      });
    case "room.created":
    case "room.topic_changed":
    case "room.slow_mode_changed":
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
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
      return timeline;
    default:
      return unhandled(event);
  }
}

function withMessage(timeline: Timeline, message: MessageModel): Timeline {
  return { ...timeline, messages: new Map(timeline.messages).set(message.id, message) };
}

function change(
  timeline: Timeline,
  id: number,
  next: (message: MessageModel) => MessageModel,
): Timeline {
  const message = timeline.messages.get(id);
  if (!message) return timeline;
  const changed = next(message);
  return changed === message ? timeline : withMessage(timeline, changed);
}
