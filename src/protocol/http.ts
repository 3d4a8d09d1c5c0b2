import * as z from "zod";
import { RoomEvent } from "./events.ts";
import {
  ClientId,
  Emoji,
  MessageText,
  Password,
  Role,
  RoomName,
  Seq,
  Topic,
  UserId,
  UserRef,
  Username,
  Visibility,
} from "./names.ts";

export const UserKind = z.enum(["guest", "user"]);
export const User = UserRef.extend({ kind: UserKind });
export type User = z.infer<typeof User>;

export const GuestSignIn = z.object({ name: Username });
/**
 * A signed-in session. `refreshToken` is in the body only for clients that send no `Origin`
 * header (bots, services); browsers get it as an HttpOnly cookie that scripts cannot read.
 */
export const Session = z.object({
  token: z.string(),
  user: User,
  refreshToken: z.string().optional(),
});
export type Session = z.infer<typeof Session>;

// Accounts (addition of the accounts issue; the contract's shapes).
export const Credentials = z.object({ username: Username, password: Password });
export const RefreshRequest = z.object({ refreshToken: z.string().max(512).optional() });
export const ChangePassword = z.object({ currentPassword: Password, newPassword: Password });
export const DeleteAccount = z.object({ password: Password });
export const Invite = z.object({
  username: Username,
  role: Role.exclude(["owner"]).default("member"),
});

export const CreateRoom = z.object({
  name: RoomName,
  topic: Topic.default(""),
  visibility: Visibility.default("public"),
});
export type CreateRoom = z.infer<typeof CreateRoom>;

export const RoomInfo = z.object({
  name: RoomName,
  topic: z.string(),
  visibility: Visibility,
  createdAt: z.number().int(),
  lastSeq: z.number().int().nonnegative(),
  /** Number of members. */
  members: z.number().int().nonnegative(),
  /** Number of distinct users connected now. */
  online: z.number().int().nonnegative(),
});
export type RoomInfo = z.infer<typeof RoomInfo>;

export const RoomList = z.object({ rooms: z.array(RoomInfo) });

/** Addition to v1 (accounts issue): a member and their role. */
export const Member = z.object({
  id: UserId,
  name: z.string(),
  role: Role,
  joinedAt: z.number().int(),
  mutedUntil: z.number().int().optional(),
});
export type Member = z.infer<typeof Member>;
export const MemberList = z.object({ members: z.array(Member) });
export type MemberList = z.infer<typeof MemberList>;

/** Query numbers arrive as strings; anything but a plain non-negative integer is a 400. */
const queryInt = z
  .string()
  .regex(/^\d{1,15}$/, "expected a non-negative integer")
  .transform(Number);

export const EventsQuery = z.object({
  after: queryInt.default(0),
  limit: queryInt.pipe(z.number().int().min(1).max(1000)).default(100),
});
export const EventsPage = z.object({
  events: z.array(RoomEvent),
  lastSeq: z.number().int().nonnegative(),
});
export type EventsPage = z.infer<typeof EventsPage>;

export const MessagesQuery = z.object({
  before: queryInt.pipe(Seq).optional(),
  limit: queryInt.pipe(z.number().int().min(1).max(1000)).default(100),
});

export const Message = z.object({
  id: Seq,
  author: UserRef,
  text: z.string(),
  at: z.number().int(),
  editedAt: z.number().int().optional(),
  replyTo: Seq.optional(),
  reactions: z.record(Emoji, z.array(UserId)),
  deleted: z.literal(true).optional(),
});
export type Message = z.infer<typeof Message>;
export const MessagesPage = z.object({ messages: z.array(Message), nextBefore: Seq.nullable() });
export type MessagesPage = z.infer<typeof MessagesPage>;

export const PostMessage = z.object({
  text: MessageText,
  clientId: ClientId,
  replyTo: Seq.optional(),
});
export const Posted = z.object({ seq: Seq });

export const RoomParam = z.object({ room: RoomName });
export const WsQuery = z.object({ since: queryInt.optional() });

export const Health = z.object({ ok: z.literal(true) });
