import * as z from "zod";
import { ErrorCode } from "./errors.ts";
import { MessageId, RoomEvent } from "./events.ts";
import {
  ClientId,
  Emoji,
  MAX_MUTE_SECONDS,
  MAX_SLOW_MODE_SECONDS,
  MessageText,
  RedactionReason,
  Role,
  RoomName,
  Seq,
  Topic,
  UserId,
  UserRef,
} from "./names.ts";
import { PluginId, RuleId } from "./automation.ts";
import { RuleBody } from "./rules.ts";
import { PostAttachments, TranscriptData } from "./attachments.ts";

/** The WebSocket subprotocol of v1; the token travels beside it as `bearer.<token>`. */
export const SUBPROTOCOL = "edgechat.v1";
/**
 * Addition to v1: the same protocol, except that acks and events leaving for a socket in one
 * turn come together in one `batch` frame. Clients that offer it get it; others get v1.
 */
export const BATCH_SUBPROTOCOL = "edgechat.v1.batch";
export const BEARER_PREFIX = "bearer.";
/** Addition to v1: the graphql-ws protocol, spoken on a room's GraphQL socket (docs/graphql.md). */
export const GRAPHQL_SUBPROTOCOL = "graphql-transport-ws";

/** The subprotocols a WebSocket upgrade offers (`Sec-WebSocket-Protocol`, comma-separated). */
export function offeredSubprotocols(headers: Headers): string[] {
  return (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
}

/** The subprotocol the answer selects: batches when offered, else v1, else none (no edgechat client). */
export function chooseSubprotocol(headers: Headers): string | undefined {
  const offered = offeredSubprotocols(headers);
  return [BATCH_SUBPROTOCOL, SUBPROTOCOL].find((protocol) => offered.includes(protocol));
}

/** Close codes of the contract. */
export const CLOSE = {
  protocolAbuse: 4400,
  tokenRevoked: 4401,
  removed: 4403,
  rateAbuse: 4429,
  /** Addition to v1: the socket fell too far behind on what the room sends; resume with `since`. */
  slowConsumer: 4408,
  restarting: 1012,
} as const;

// Commands: frames that change the room and carry a clientId for idempotency.
/**
 * `attachments`, an addition (docs/attachments.md): uploads of the sender's in the room, complete
 * and unposted. With attachments the text may be left out.
 */
export const PostFields = z.object({
  clientId: ClientId,
  text: MessageText.optional(),
  replyTo: MessageId.optional(),
  attachments: PostAttachments.optional(),
});
/** The check every form of a post makes: the frame, and the REST body (http.ts). */
export const withContent = <S extends z.ZodType<{ text?: string; attachments?: string[] }>>(
  schema: S,
) =>
  schema.refine((post) => post.text !== undefined || post.attachments !== undefined, {
    message: "a post has text, attachments or both",
    path: ["text"],
  });
export const PostFrame = withContent(PostFields.extend({ type: z.literal("post") }));
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
/** Addition: take back your last action in the room, or apply again the last one taken back (docs/audit.md). */
export const UndoFrame = z.object({ type: z.literal("undo"), clientId: ClientId });
export const RedoFrame = z.object({ type: z.literal("redo"), clientId: ClientId });
/** Addition: empty a message's text for good (its author, moderators, the owner, admins). */
export const RedactFrame = z.object({
  type: z.literal("redact"),
  clientId: ClientId,
  messageId: MessageId,
  reason: RedactionReason.optional(),
});
/** Addition to v1: the room's owner or a moderator changes its topic. */
export const TopicFrame = z.object({ type: z.literal("topic"), clientId: ClientId, topic: Topic });
/** Addition to v1: leave the room (member.left); reconnecting joins again. */
export const LeaveFrame = z.object({ type: z.literal("leave"), clientId: ClientId });

// Moderation, an addition to v1. Who may do what: permissions.ts and docs/roles.md.
const aimedAt = <T extends string>(type: T) =>
  z.object({ type: z.literal(type), clientId: ClientId, userId: UserId });
/** Owner only: make a member a moderator or back. Ownership moves with `transfer`. */
export const RoleFrame = aimedAt("role").extend({ role: Role.exclude(["owner"]) });
export const KickFrame = aimedAt("kick");
export const BanFrame = aimedAt("ban");
export const UnbanFrame = aimedAt("unban");
export const MuteFrame = aimedAt("mute").extend({
  seconds: z.number().int().min(1).max(MAX_MUTE_SECONDS),
});
export const UnmuteFrame = aimedAt("unmute");
export const TransferFrame = aimedAt("transfer");
export const SlowModeFrame = z.object({
  type: z.literal("slow_mode"),
  clientId: ClientId,
  seconds: z.number().int().min(0).max(MAX_SLOW_MODE_SECONDS),
});

/** Every command a client may send over the WebSocket. */
const clientCommands = [
  PostFrame,
  EditFrame,
  DeleteFrame,
  ReactFrame,
  UndoFrame,
  RedoFrame,
  RedactFrame,
  TopicFrame,
  LeaveFrame,
  RoleFrame,
  KickFrame,
  BanFrame,
  UnbanFrame,
  MuteFrame,
  UnmuteFrame,
  TransferFrame,
  SlowModeFrame,
] as const;

/**
 * An invitation, built by the worker once it has found the invited account by username
 * (POST /api/rooms/{room}/members); never accepted as a frame.
 */
export const InviteCommand = z.object({
  type: z.literal("invite"),
  clientId: ClientId,
  user: UserRef,
  role: Role.exclude(["owner"]),
});

/**
 * Additions (docs/automation.md, "Rules in the log"): the room's rules and its plugins, built by
 * the worker's routes (never accepted as frames). `save_rule` creates or replaces rule `id`;
 * without `id` it creates one whose id the room derives from the sender and the `clientId`.
 */
export const SaveRuleCommand = z.object({
  type: z.literal("save_rule"),
  clientId: ClientId,
  rule: RuleBody,
  id: RuleId.optional(),
});
export const DeleteRuleCommand = z.object({
  type: z.literal("delete_rule"),
  clientId: ClientId,
  ruleId: RuleId,
});
/** Whether the plugin is installed is the route's to check: the room knows only its own state. */
export const EnablePluginCommand = z.object({
  type: z.literal("enable_plugin"),
  clientId: ClientId,
  plugin: PluginId,
});
export const DisablePluginCommand = z.object({
  type: z.literal("disable_plugin"),
  clientId: ClientId,
  plugin: PluginId,
});

/**
 * Addition (docs/attachments.md, "Transcription"): a voice attachment's transcript, built by the
 * room's transcription queue for the Transcriber bot (never accepted as a frame).
 */
export const TranscriptCommand = z.object({
  type: z.literal("transcript"),
  clientId: ClientId,
  transcript: TranscriptData,
});

export const Command = z.discriminatedUnion("type", [
  ...clientCommands,
  InviteCommand,
  SaveRuleCommand,
  DeleteRuleCommand,
  EnablePluginCommand,
  DisablePluginCommand,
  TranscriptCommand,
]);
export type Command = z.infer<typeof Command>;

// Signals: not logged, no clientId.
export const TypingFrame = z.object({ type: z.literal("typing") });
export const ReadFrame = z.object({ type: z.literal("read"), seq: z.number().int().nonnegative() });
export const PingFrame = z.object({ type: z.literal("ping") });
/**
 * Addition to v1: the last seq this client has received. A socket more than
 * SLOW_CONSUMER_EVENTS behind what was sent to it is closed with 4408 (docs/protocol.md).
 */
export const ReceivedFrame = z.object({
  type: z.literal("received"),
  seq: z.number().int().nonnegative(),
});

/** Every frame a client may send. */
export const ClientFrame = z.discriminatedUnion("type", [
  ...clientCommands,
  TypingFrame,
  ReadFrame,
  PingFrame,
  ReceivedFrame,
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
  /** Addition to v1: with `overloaded` (and `rate_limited`), when to send the command again. */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export const PresenceFrame = z.object({
  type: z.literal("presence"),
  joined: UserRef.optional(),
  left: z.object({ id: UserId }).optional(),
});
export const TypingNotice = z.object({ type: z.literal("typing"), user: UserRef });
export const PongFrame = z.object({ type: z.literal("pong") });
/**
 * Addition to v1: a slash command's answer that only you see (docs/integrations.md), sent to
 * your chat sockets in the room alone and never logged; `from` is the command's bot.
 */
export const EphemeralFrame = z.object({
  type: z.literal("ephemeral"),
  text: z.string(),
  from: UserRef,
  at: z.number(),
});
export type EphemeralFrame = z.infer<typeof EphemeralFrame>;

const singleFrames = [
  WelcomeFrame,
  EventFrame,
  GapFrame,
  AckFrame,
  ErrorFrame,
  PresenceFrame,
  TypingNotice,
  PongFrame,
  EphemeralFrame,
] as const;

/**
 * Addition to v1, on `edgechat.v1.batch` only: the acks and events the room sends a socket in one
 * turn, in order, read as if each had come alone.
 */
export const BatchFrame = z.object({
  type: z.literal("batch"),
  frames: z.array(z.discriminatedUnion("type", [...singleFrames])),
});

/** Every frame the server sends. */
export const ServerFrame = z.discriminatedUnion("type", [...singleFrames, BatchFrame]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ServerFrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;
