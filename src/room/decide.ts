import {
  atLeast,
  refusal,
  type Action,
  roomInScope,
  type Command,
  type CreateRoom,
  type Refusal,
  type Role,
  type Standing,
} from "../protocol/index.ts";
import { scopeOf, type Actor } from "../identity/actor.ts";
import type { RoomView } from "./room-view.ts";
import { actsWithoutJoining, mutedRefusal, standingOf } from "./standing.ts";
import { accept, refuse, type Decision } from "./decision.ts";
import { decideTranscript } from "./decide-attachments.ts";
import { decideUndoRedo } from "./undo.ts";
import { decideAutomation, type AutomationCommand } from "./decide-automation.ts";

export type { RoomView } from "./room-view.ts";
export { standingOf } from "./standing.ts";

export type { Decision } from "./decision.ts";

/** What a room never created and a private room one may not see both answer, word for word. */
export const NO_SUCH_ROOM: Refusal = { code: "not_found", message: "no such room" };

/** A member's standing as the target of a command: admins are named by the instance, not the room. */
const targetOf = (view: RoomView, userId: string): Standing => ({ role: view.role(userId) });

/** The events that create a room; its creator is its owner and first member. */
export function decideCreate(input: CreateRoom, exists: boolean, actor: Actor): Decision {
  // A room's creator owns it, and a service never owns a room (docs/service-keys.md).
  if (scopeOf(actor)) return refuse("forbidden", "service accounts cannot create rooms");
  if (exists) return refuse("conflict", `room "${input.name}" already exists`);
  if (input.visibility === "private" && actor.kind === "guest") {
    return refuse("forbidden", "guests cannot create private rooms: register first");
  }
  return accept(
    {
      type: "room.created",
      data: {
        name: input.name,
        topic: input.topic,
        visibility: input.visibility,
        shards: input.shards,
      },
    },
    { type: "member.joined", data: {} },
  );
}

/**
 * Why `actor` may not see the room, if they may not. To anyone outside a private room it does
 * not exist; a banned user is told so in a public room (its existence is public anyway). To a
 * service, a room its scope does not name does not exist either, public or private.
 */
export function denyAccess(view: RoomView, actor: Actor): Refusal | undefined {
  if (actor.admin) return undefined;
  const scope = scopeOf(actor);
  if (scope && !roomInScope(scope.rooms, view.name)) return NO_SUCH_ROOM;
  const member = view.role(actor.id) !== undefined || scope !== undefined;
  if (view.visibility === "private") {
    return member && !view.isBanned(actor.id) ? undefined : NO_SUCH_ROOM;
  }
  if (view.isBanned(actor.id))
    return { code: "forbidden", message: "you are banned from this room" };
  return undefined;
}

/** Joining happens on first connect or first post in a public room: a member.joined event, once. */
export function decideJoin(view: RoomView, actor: Actor): Decision {
  const denied = denyAccess(view, actor);
  if (denied) return { ok: false, error: denied };
  if (actsWithoutJoining(view, actor)) return accept();
  return accept({ type: "member.joined", data: {} });
}

/**
 * The rules of every command, for someone `denyAccess` let in (the room asks it once, before
 * the idempotency lookup).
 * @example decide({ type: "post", clientId: "c1", text: "hi" }, ada, view, Date.now()) // ok: [member.joined?, message.posted]
 */
export function decide(command: Command, actor: Actor, view: RoomView, now: number): Decision {
  // Every command is an action: a service's scope may leave it out, whatever the rank it needs.
  const denied = refusal(standingOf(view, actor), command.type);
  if (denied) return { ok: false, error: denied };
  switch (command.type) {
    case "post":
    case "edit":
    case "delete":
    case "react": {
      const outcome = decideMessage(command, actor, view, now);
      if (!outcome.ok || actsWithoutJoining(view, actor) || outcome.events.length === 0)
        return outcome;
      return accept({ type: "member.joined", data: {} }, ...outcome.events);
    }
    case "undo":
    case "redo": {
      const outcome = decideUndoRedo(command.type, actor, view, now);
      return outcome.ok ? accept(outcome.event) : outcome;
    }
    case "redact":
      return decideRedact(command, actor, view);
    case "leave":
      if (view.role(actor.id) === "owner") {
        return refuse("forbidden", "the owner cannot leave: transfer ownership first");
      }
      return view.role(actor.id) ? accept({ type: "member.left", data: {} }) : accept();
    case "save_rule":
    case "delete_rule":
    case "enable_plugin":
    case "disable_plugin":
      return decideAutomation(command, actor, view);
    case "transcript":
      return decideTranscript(command, actor, view);
    default:
      return decideModeration(command, actor, view, now);
  }
}

/** Authors redact their own messages, moderators and above anyone's; twice is a no-op. */
function decideRedact(
  command: Extract<Command, { type: "redact" }>,
  actor: Actor,
  view: RoomView,
): Decision {
  const message = view.message(command.messageId);
  if (!message) return noMessage(command.messageId);
  if (message.redacted) return accept();
  const denied =
    message.authorId !== actor.id &&
    lacks(view, actor, "redact_any", "only its author or a moderator may redact a message");
  if (denied) return { ok: false, error: denied };
  const { messageId, reason } = command;
  return accept({
    type: "message.redacted",
    data: reason === undefined ? { messageId } : { messageId, reason },
  });
}

type MessageCommand = Extract<Command, { type: "post" | "edit" | "delete" | "react" }>;

function decideMessage(
  command: MessageCommand,
  actor: Actor,
  view: RoomView,
  now: number,
): Decision {
  const muted = mutedRefusal(view, actor.id, now);
  if (muted && command.type !== "delete") return { ok: false, error: muted };
  switch (command.type) {
    case "post": {
      const wait = slowModeWait(view, actor, now);
      if (wait > 0)
        return refuse("rate_limited", `slow mode: wait ${wait} s before your next message`);
      if (command.replyTo !== undefined && !live(view, command.replyTo))
        return noMessage(command.replyTo);
      const attachments = [];
      for (const id of command.attachments ?? []) {
        const attachment = view.postableUpload(actor.id, id);
        if (!attachment)
          return refuse(
            "not_found",
            `no upload ${id} of yours, complete and unposted, in this room`,
          );
        attachments.push(attachment);
      }
      const data = {
        text: command.text ?? "",
        ...(command.replyTo === undefined ? {} : { replyTo: command.replyTo }),
        ...(attachments.length === 0 ? {} : { attachments }),
      };
      return accept({ type: "message.posted", data });
    }
    case "edit": {
      const message = view.message(command.messageId);
      if (!message || message.deleted || message.redacted) return noMessage(command.messageId);
      if (message.authorId !== actor.id)
        return refuse("forbidden", "only its author may edit a message");
      return accept({
        type: "message.edited",
        data: { messageId: command.messageId, text: command.text },
      });
    }
    case "delete": {
      const message = view.message(command.messageId);
      if (!message || message.deleted) return noMessage(command.messageId);
      const denied =
        message.authorId !== actor.id &&
        lacks(view, actor, "delete_any", "only its author or a moderator may delete a message");
      if (denied) return { ok: false, error: denied };
      return accept({ type: "message.deleted", data: { messageId: command.messageId } });
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
  }
}

type ModerationCommand = Exclude<
  Command,
  MessageCommand | AutomationCommand | { type: "leave" | "undo" | "redo" | "redact" | "transcript" }
>;

function decideModeration(
  command: ModerationCommand,
  actor: Actor,
  view: RoomView,
  now: number,
): Decision {
  const who = standingOf(view, actor);
  const denied = refusal(who, command.type);
  if (denied) return { ok: false, error: denied };
  switch (command.type) {
    case "topic":
      return accept({ type: "room.topic_changed", data: { topic: command.topic } });
    case "slow_mode":
      if (command.seconds === view.slowModeSeconds) return accept();
      return accept({ type: "room.slow_mode_changed", data: { seconds: command.seconds } });
    case "invite": {
      if (command.role === "moderator" && !atLeast(who, "owner"))
        return refuse("forbidden", "only the owner names moderators");
      if (view.isBanned(command.user.id))
        return refuse("conflict", "that user is banned: unban them first");
      if (view.role(command.user.id)) return accept();
      const limited = inviteWait(view, now);
      if (limited) return { ok: false, error: limited };
      return accept({ type: "member.invited", data: { user: command.user, role: command.role } });
    }
    case "role": {
      const current = view.role(command.userId);
      if (!current) return noMember(command.userId);
      if (current === "owner")
        return refuse("forbidden", "the owner's role changes only by a transfer");
      if (current === command.role) return accept();
      return accept({
        type: "member.role_changed",
        data: { userId: command.userId, role: command.role },
      });
    }
    case "transfer": {
      const current = view.role(command.userId);
      if (!current) return noMember(command.userId);
      if (current === "owner") return accept();
      return accept({
        type: "room.ownership_transferred",
        data: { userId: command.userId, from: view.ownerId },
      });
    }
    case "kick":
    case "mute":
    case "unmute":
    case "ban":
    case "unban":
      return decideSanction(command, who, view, now);
  }
}

type Sanction = Extract<Command, { type: "kick" | "mute" | "unmute" | "ban" | "unban" }>;

function decideSanction(command: Sanction, who: Standing, view: RoomView, now: number): Decision {
  const { userId } = command;
  const denied = refusal(who, command.type, targetOf(view, userId));
  if (denied) return { ok: false, error: denied };
  const member = view.role(userId) !== undefined;
  switch (command.type) {
    case "kick":
      return member ? accept({ type: "member.kicked", data: { userId } }) : noMember(userId);
    case "mute":
      if (!member) return noMember(userId);
      return accept({
        type: "member.muted",
        data: { userId, until: now + command.seconds * 1000 },
      });
    case "unmute":
      return view.mutedUntil(userId) > now
        ? accept({ type: "member.unmuted", data: { userId } })
        : accept();
    case "ban":
      return view.isBanned(userId) ? accept() : accept({ type: "member.banned", data: { userId } });
    case "unban":
      return view.isBanned(userId)
        ? accept({ type: "member.unbanned", data: { userId } })
        : accept();
  }
}

/**
 * Why `actor` may not use `power` here, in the words of `message`; when it is a service's scope
 * that leaves the power out, the refusal names it instead.
 */
function lacks(view: RoomView, actor: Actor, power: Action, message: string): Refusal | undefined {
  const denied = refusal(standingOf(view, actor), power);
  if (!denied) return undefined;
  const scoped = scopeOf(actor)?.actions.includes(power) === false;
  return scoped ? denied : { code: "forbidden", message };
}

/** The refusal when the room has made all the invitations its window allows. */
function inviteWait(view: RoomView, now: number): Refusal | undefined {
  const { count, windowMs } = view.inviteLimit;
  const recent = view.invitesSince(now - windowMs);
  if (recent.count < count) return undefined;
  const minutes = Math.round(windowMs / 60_000);
  return {
    code: "rate_limited",
    message: `this room has made ${count} invitations in ${minutes} min, its limit: try again later`,
    retryAfter: Math.max(1, (recent.oldestAt + windowMs - now) / 1000),
  };
}

/** Seconds a member must still wait under slow mode; moderators and owners are exempt. */
function slowModeWait(view: RoomView, actor: Actor, now: number): number {
  if (view.slowModeSeconds === 0 || !refusal(standingOf(view, actor), "skip_slow_mode")) return 0;
  const next = view.lastPostAt(actor.id) + view.slowModeSeconds * 1000;
  return next > now ? Math.ceil((next - now) / 1000) : 0;
}

const live = (view: RoomView, id: number) => {
  const message = view.message(id);
  return message !== undefined && !message.deleted && !message.redacted;
};
const noMessage = (id: number) => refuse("not_found", `no message ${id}`);
const noMember = (userId: string) => refuse("not_found", `${userId} is not a member of this room`);
