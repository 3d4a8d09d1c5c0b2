import type { Message, MessagesPage, RoomEvent, UserRef } from "../client/index.ts";

/** A message as the view keeps it: reactions as sets, so replaying an event changes nothing twice. */
export type MessageModel = {
  id: number;
  author: UserRef;
  text: string;
  at: number;
  editedAt?: number;
  replyTo?: number;
  reactions: Map<string, Set<string>>;
  deleted: boolean;
};

/** A line for an event that is not a message (someone joined or left). */
export type Notice = { seq: number; at: number; text: string };

export type Change =
  | { kind: "message"; message: MessageModel; fresh: boolean }
  | { kind: "notice"; notice: Notice }
  | { kind: "topic"; topic: string }
  | { kind: "none" };

export function fromMessage(message: Message): MessageModel {
  const reactions = new Map<string, Set<string>>();
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
  };
}

/**
 * The room's messages as far as they are loaded, keyed by id (= the seq of message.posted).
 * History pages (HTTP) and live events (WebSocket) may overlap: merging a page replaces the
 * messages it holds, and applying an event is idempotent, so replaying one in order is harmless.
 */
export class Timeline {
  readonly messages = new Map<number, MessageModel>();
  /** The `before` for the next older page; null once the first message is loaded. */
  nextBefore: number | null = null;
  /** Whether any page was loaded yet. */
  loaded = false;

  reset(): void {
    this.messages.clear();
    this.nextBefore = null;
    this.loaded = false;
  }

  /** Merges a page (the newest, or the one before `nextBefore`). Returns the merged models. */
  merge(page: MessagesPage): MessageModel[] {
    this.nextBefore = page.nextBefore;
    this.loaded = true;
    return page.messages.map((message) => {
      const model = fromMessage(message);
      this.messages.set(model.id, model);
      return model;
    });
  }

  /** Whether a seq falls below what is loaded (older history that paging will bring). */
  unloaded(seq: number): boolean {
    return this.nextBefore !== null && seq < this.nextBefore;
  }

  apply(event: RoomEvent): Change {
    switch (event.type) {
      case "message.posted": {
        if (this.messages.has(event.seq) || this.unloaded(event.seq)) return { kind: "none" };
        const message: MessageModel = {
          id: event.seq,
          author: event.actor,
          text: event.data.text,
          at: event.at,
          ...(event.data.replyTo === undefined ? {} : { replyTo: event.data.replyTo }),
          reactions: new Map(),
          deleted: false,
        };
        this.messages.set(message.id, message);
        return { kind: "message", message, fresh: true };
      }
      case "message.edited":
        return this.#change(event.data.messageId, (m) => {
          m.text = event.data.text;
          m.editedAt = event.at;
        });
      case "message.deleted":
        return this.#change(event.data.messageId, (m) => {
          m.deleted = true;
          m.text = "";
          m.reactions.clear();
        });
      case "reaction.added":
        return this.#change(event.data.messageId, (m) => {
          const users = m.reactions.get(event.data.emoji) ?? new Set<string>();
          users.add(event.actor.id);
          m.reactions.set(event.data.emoji, users);
        });
      case "reaction.removed":
        return this.#change(event.data.messageId, (m) => {
          const users = m.reactions.get(event.data.emoji);
          users?.delete(event.actor.id);
          if (users?.size === 0) m.reactions.delete(event.data.emoji);
        });
      case "room.topic_changed":
        return { kind: "topic", topic: event.data.topic };
      case "member.joined":
      case "member.left":
        if (this.unloaded(event.seq)) return { kind: "none" };
        return {
          kind: "notice",
          notice: {
            seq: event.seq,
            at: event.at,
            text: `${event.actor.name} ${event.type === "member.joined" ? "joined" : "left"}`,
          },
        };
      default:
        return { kind: "none" };
    }
  }

  #change(id: number, mutate: (message: MessageModel) => void): Change {
    const message = this.messages.get(id);
    if (!message) return { kind: "none" };
    mutate(message);
    return { kind: "message", message, fresh: false };
  }
}
