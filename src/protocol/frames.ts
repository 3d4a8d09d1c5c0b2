import * as z from "zod";
import { ErrorCode } from "./errors.ts";
import { MessageId, RoomEvent } from "./events.ts";
import { ClientId, Emoji, MessageText, RoomName, Seq, Topic, UserId, UserRef } from "./names.ts";

/** The WebSocket subprotocol of v1; the token travels beside it as `bearer.<token>`. */
export const SUBPROTOCOL = "edgechat.v1";
export const BEARER_PREFIX = "bearer.";

/** Close codes of the contract. */
export const CLOSE = {
  protocolAbuse: 4400,
  tokenRevoked: 4401,
  removed: 4403,
  rateAbuse: 4429,
  restarting: 1012,
} as const;

// Commands: frames that change the room and carry a clientId for idempotency.
export const PostFrame = z.object({
  type: z.literal("post"),
  clientId: ClientId,
  text: MessageText,
  replyTo: MessageId.optional(),
});
export const EditFrame = z.object({
  type: z.literal("edit"),
  clientId: ClientId,
  messageId: MessageId,
  text: MessageText,
});
export const DeleteFrame = z.object({
  type: z.literal("delete"),
  clientId: ClientId,
  messageId: MessageId,
});
export const ReactFrame = z.object({
  type: z.literal("react"),
  clientId: ClientId,
  messageId: MessageId,
  emoji: Emoji,
  on: z.boolean(),
});
/** Addition to v1: the room's creator changes its topic. */
export const TopicFrame = z.object({ type: z.literal("topic"), clientId: ClientId, topic: Topic });
/** Addition to v1: leave the room (member.left); reconnecting joins again. */
export const LeaveFrame = z.object({ type: z.literal("leave"), clientId: ClientId });

export const Command = z.discriminatedUnion("type", [
  PostFrame,
  EditFrame,
  DeleteFrame,
  ReactFrame,
  TopicFrame,
  LeaveFrame,
]);
export type Command = z.infer<typeof Command>;

// Signals: not logged, no clientId.
export const TypingFrame = z.object({ type: z.literal("typing") });
export const ReadFrame = z.object({ type: z.literal("read"), seq: z.number().int().nonnegative() });
export const PingFrame = z.object({ type: z.literal("ping") });

/** Every frame a client may send. */
export const ClientFrame = z.discriminatedUnion("type", [
  PostFrame,
  EditFrame,
  DeleteFrame,
  ReactFrame,
  TopicFrame,
  LeaveFrame,
  TypingFrame,
  ReadFrame,
  PingFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export const WelcomeFrame = z.object({
  type: z.literal("welcome"),
  room: RoomName,
  you: UserRef,
  lastSeq: z.number().int().nonnegative(),
  online: z.array(UserRef),
  /** Addition to v1: the seq of your read marker, for an unread line. */
  readSeq: z.number().int().nonnegative().optional(),
});
export const EventFrame = z.object({ type: z.literal("event"), event: RoomEvent });
/** Any event frame, of a type this client may not know yet: enough to keep counting seqs. */
export const AnyEventFrame = z.object({ type: z.literal("event"), event: z.object({ seq: Seq }) });
export const GapFrame = z.object({
  type: z.literal("gap"),
  after: z.number().int().nonnegative(),
  before: Seq,
});
export const AckFrame = z.object({
  type: z.literal("ack"),
  clientId: ClientId,
  seq: z.number().int().nonnegative(),
});
export const ErrorFrame = z.object({
  type: z.literal("error"),
  code: ErrorCode,
  message: z.string(),
  clientId: z.string().optional(),
});
export const PresenceFrame = z.object({
  type: z.literal("presence"),
  joined: UserRef.optional(),
  left: z.object({ id: UserId }).optional(),
});
export const TypingNotice = z.object({ type: z.literal("typing"), user: UserRef });
export const PongFrame = z.object({ type: z.literal("pong") });

/** Every frame the server sends. */
export const ServerFrame = z.discriminatedUnion("type", [
  WelcomeFrame,
  EventFrame,
  GapFrame,
  AckFrame,
  ErrorFrame,
  PresenceFrame,
  TypingNotice,
  PongFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ServerFrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;
