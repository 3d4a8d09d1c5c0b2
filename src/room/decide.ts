import type { Command, CreateRoom, NewEvent, Refusal, UserRef } from "../protocol/index.ts";

/** What the rules need to know of a room: read from its projections, or from memory in tests. */
export interface RoomView {
  readonly visibility: "public" | "private";
  readonly createdBy: string;
  isMember(userId: string): boolean;
  message(id: number): { authorId: string; deleted: boolean } | undefined;
  hasReaction(messageId: number, emoji: string, userId: string): boolean;
}

/** The outcome of a command: events to log (none for a no-op), or a refusal. */
export type Decision = { ok: true; events: NewEvent[] } | { ok: false; error: Refusal };

const accept = (...events: NewEvent[]): Decision => ({ ok: true, events });
const refuse = (code: Refusal["code"], message: string): Decision => ({
  ok: false,
  error: { code, message },
});

/** The events that create a room; its creator is its first member. */
export function decideCreate(input: CreateRoom, exists: boolean): Decision {
  if (exists) return refuse("conflict", `room "${input.name}" already exists`);
  return accept(
    {
      type: "room.created",
      data: { name: input.name, topic: input.topic, visibility: input.visibility },
    },
    { type: "member.joined", data: {} },
  );
}

/** May `user` see the room at all? To anyone else a private room does not exist. */
export function canSee(view: RoomView, userId: string): boolean {
  return view.visibility === "public" || view.isMember(userId);
}

/** Joining happens on first connect or first post: a member.joined event, once. */
export function decideJoin(view: RoomView, actor: UserRef): Decision {
  if (!canSee(view, actor.id)) return refuse("not_found", "no such room");
  return view.isMember(actor.id) ? accept() : accept({ type: "member.joined", data: {} });
}

/**
 * The rules of every command.
 * @example decide({ type: "post", clientId: "c1", text: "hi" }, ada, view) // ok: [member.joined?, message.posted]
 */
export function decide(command: Command, actor: UserRef, view: RoomView): Decision {
  if (!canSee(view, actor.id)) return refuse("not_found", "no such room");
  if (command.type === "leave")
    return view.isMember(actor.id) ? accept({ type: "member.left", data: {} }) : accept();
  const outcome = decideAsMember(command, actor, view);
  if (!outcome.ok || view.isMember(actor.id) || outcome.events.length === 0) return outcome;
  return accept({ type: "member.joined", data: {} }, ...outcome.events);
}

function decideAsMember(
  command: Exclude<Command, { type: "leave" }>,
  actor: UserRef,
  view: RoomView,
): Decision {
  switch (command.type) {
    case "post": {
      if (command.replyTo !== undefined && !live(view, command.replyTo))
        return noMessage(command.replyTo);
      const data =
        command.replyTo === undefined
          ? { text: command.text }
          : { text: command.text, replyTo: command.replyTo };
      return accept({ type: "message.posted", data });
    }
    case "edit":
    case "delete": {
      const message = view.message(command.messageId);
      if (!message || message.deleted) return noMessage(command.messageId);
      if (message.authorId !== actor.id)
        return refuse("forbidden", `only its author may ${command.type} a message`);
      return command.type === "edit"
        ? accept({
            type: "message.edited",
            data: { messageId: command.messageId, text: command.text },
          })
        : accept({ type: "message.deleted", data: { messageId: command.messageId } });
    }
    case "react": {
      if (!live(view, command.messageId)) return noMessage(command.messageId);
      const data = { messageId: command.messageId, emoji: command.emoji };
      // Asking for the state that already holds is a no-op, not an error: two tabs may click at once.
      if (view.hasReaction(command.messageId, command.emoji, actor.id) === command.on)
        return accept();
      return accept(
        command.on ? { type: "reaction.added", data } : { type: "reaction.removed", data },
      );
    }
    case "topic":
      if (view.createdBy !== actor.id)
        return refuse("forbidden", "only the room's creator may change its topic");
      return accept({ type: "room.topic_changed", data: { topic: command.topic } });
  }
}

const live = (view: RoomView, id: number) => view.message(id)?.deleted === false;
const noMessage = (id: number) => refuse("not_found", `no message ${id}`);
