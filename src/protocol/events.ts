import * as z from "zod";
import { Hash } from "./chain.ts";
import {
  Emoji,
  RedactionReason,
  FanoutShards,
  MessageText,
  Role,
  RoomName,
  Seq,
  Topic,
  UserId,
  UserRef,
  Visibility,
} from "./names.ts";
import { PluginId, RuleId, RuleName } from "./automation.ts";
import { LoggedRule } from "./rules.ts";
import { Attachment, LIMITS_ATTACHMENTS, TranscriptData } from "./attachments.ts";

/** A message's id is the seq of its `message.posted` event. */
export const MessageId = Seq;

/** A message's text as logged: empty once the message was redacted (`message.redacted`). */
export const LoggedText = z.union([MessageText, z.literal("")]);

/**
 * Addition to v1, on the events a user's undo or redo logs (docs/audit.md): `undoes` names the
 * seq of the action a compensating event takes back, `redoes` the seq of the action it applies
 * again. An event without either is an action of its own.
 */
const UndoMarks = { undoes: Seq.optional(), redoes: Seq.optional() };

/** The `data` of each v1 event type. */
export const EventData = {
  /**
   * Version 2 (upcast.ts): the server always sends `shards`, 0 for none; version 1 left it out
   * for a room without shards. Optional here all the same: a v1 server's events must parse.
   */
  "room.created": z.object({
    name: RoomName,
    topic: Topic,
    visibility: Visibility,
    /** Addition to v1: fan-out shards for a big room, 0 for none. */
    shards: FanoutShards.optional(),
  }),
  "room.topic_changed": z.object({ topic: Topic }),
  "member.joined": z.object({}),
  "member.left": z.object({}),
  /**
   * `attachments`, an addition (docs/attachments.md): the files the message carries. Its text is
   * empty when it was posted without one.
   */
  "message.posted": z.object({
    text: LoggedText,
    replyTo: MessageId.optional(),
    attachments: z.array(Attachment).max(LIMITS_ATTACHMENTS.perMessage).optional(),
  }),
  "message.edited": z.object({ messageId: MessageId, text: LoggedText, ...UndoMarks }),
  "message.deleted": z.object({ messageId: MessageId, ...UndoMarks }),
  "reaction.added": z.object({ messageId: MessageId, emoji: Emoji, ...UndoMarks }),
  "reaction.removed": z.object({ messageId: MessageId, emoji: Emoji, ...UndoMarks }),
  /** Addition: a deleted message is back, with the text it had (an undo of a delete, a redo of a post). */
  "message.restored": z.object({ messageId: MessageId, text: LoggedText, ...UndoMarks }),
  /**
   * Addition: the message's text is gone for good from every event that carried it (those
   * events are served with `redacted: true` and empty text); the hash chain still verifies.
   */
  "message.redacted": z.object({ messageId: MessageId, reason: RedactionReason.optional() }),
  // Additions to v1: roles, invitations and moderation.
  "member.invited": z.object({ user: UserRef, role: Role }),
  "member.role_changed": z.object({ userId: UserId, role: Role }),
  "member.kicked": z.object({ userId: UserId }),
  "member.banned": z.object({ userId: UserId }),
  "member.unbanned": z.object({ userId: UserId }),
  "member.muted": z.object({ userId: UserId, until: z.number().int() }),
  "member.unmuted": z.object({ userId: UserId }),
  "room.slow_mode_changed": z.object({ seconds: z.number().int().nonnegative() }),
  /** `from`, an addition: the previous owner (absent in events logged before it existed). */
  "room.ownership_transferred": z.object({ userId: UserId, from: UserId.optional() }),
  // Additions: the room's automation (docs/automation.md, "Rules in the log").
  /** A rule created or replaced, whole; an undo or redo of a save or a delete logs one too. */
  "rule.saved": z.object({ rule: LoggedRule, ...UndoMarks }),
  /** `name`: the rule's name when it was deleted, for readers of the log. */
  "rule.deleted": z.object({ ruleId: RuleId, name: RuleName, ...UndoMarks }),
  "plugin.enabled": z.object({ plugin: PluginId }),
  "plugin.disabled": z.object({ plugin: PluginId }),
  /** Addition (docs/attachments.md): what a voice attachment says, logged by the Transcriber bot. */
  "message.transcribed": TranscriptData,
} as const;

export type EventType = keyof typeof EventData;

function event<T extends EventType>(type: T) {
  return z.object({
    seq: Seq,
    id: z.string().min(1),
    type: z.literal(type),
    at: z.number().int(),
    actor: UserRef,
    data: EventData[type],
    /** Addition to v1: the event's link in the room's hash chain (chain.ts, docs/audit.md). */
    hash: Hash.optional(),
    /** Addition to v1: the hash of the event before it (all zeros for the first). */
    prevHash: Hash.optional(),
    /** Addition: this event's text was redacted by a later `message.redacted`; its text is empty. */
    redacted: z.literal(true).optional(),
  });
}

/** One logged event, discriminated by `type`. */
export const RoomEvent = z.discriminatedUnion("type", [
  event("room.created"),
  event("room.topic_changed"),
  event("member.joined"),
  event("member.left"),
  event("message.posted"),
  event("message.edited"),
  event("message.deleted"),
  event("reaction.added"),
  event("reaction.removed"),
  event("message.restored"),
  event("message.redacted"),
  event("member.invited"),
  event("member.role_changed"),
  event("member.kicked"),
  event("member.banned"),
  event("member.unbanned"),
  event("member.muted"),
  event("member.unmuted"),
  event("room.slow_mode_changed"),
  event("room.ownership_transferred"),
  event("rule.saved"),
  event("rule.deleted"),
  event("plugin.enabled"),
  event("plugin.disabled"),
  event("message.transcribed"),
]);
export type RoomEvent = z.infer<typeof RoomEvent>;

type Distribute<T> = T extends RoomEvent ? Pick<T, "type" | "data"> : never;
/** An event as a decision produces it, before the log numbers and stamps it. */
export type NewEvent = Distribute<RoomEvent>;

/**
 * The `default` of every switch over event types: the type check fails here when a new event
 * type is not handled above it, and a value that slips past the types at run time is an error.
 */
export function unhandled(value: never): never {
  throw new Error(`unhandled event type: ${JSON.stringify((value as { type?: unknown }).type)}`);
}
