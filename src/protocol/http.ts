import * as z from "zod";
import { RoomEvent } from "./events.ts";
import { ErrorBody } from "./errors.ts";
import { MessageAttachment } from "./attachments.ts";
import { PostFields, withContent } from "./frames.ts";
import {
  ClientId,
  Emoji,
  FanoutShards,
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

/** Who someone is: a guest, a registered user, or a service account (docs/service-keys.md). */
export const UserKind = z.enum(["guest", "user", "service"]);
export const User = UserRef.extend({ kind: UserKind });
export type User = z.infer<typeof User>;
/** `GET /api/auth/me`: the user, and whether the configuration makes them an instance admin. */
export const Me = User.extend({ admin: z.boolean() });

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

// Accounts: the contract's shapes.
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
  /**
   * Addition to v1: for a room expected to be big, how many shard objects hold its sockets and
   * relay its events (0, the default: the room holds them itself). docs/scaling.md.
   */
  shards: FanoutShards.default(0),
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
  /** Addition to v1: seconds a member must wait between messages; 0 when off. */
  slowModeSeconds: z.number().int().nonnegative().optional(),
  /** Addition to v1: the room's fan-out shards; 0 when it holds its sockets itself. */
  shards: z.number().int().nonnegative().optional(),
});
export type RoomInfo = z.infer<typeof RoomInfo>;

/**
 * A page of the public rooms (an addition: paged); `nextCursor` continues the same walk, in the
 * same order, while it is not null.
 */
export const RoomList = z.object({
  rooms: z.array(RoomInfo),
  nextCursor: z.string().nullable().optional(),
});
export type RoomList = z.infer<typeof RoomList>;

/** How the directory sorts: busiest (online, then events), newest, or most members. */
export const RoomSort = z.enum(["activity", "newest", "members"]);
export type RoomSort = z.infer<typeof RoomSort>;

/** Addition to v1: a member and their role. */
export const Member = z.object({
  id: UserId,
  name: z.string(),
  role: Role,
  joinedAt: z.number().int(),
  mutedUntil: z.number().int().optional(),
});
export type Member = z.infer<typeof Member>;
/** The members, and (an addition) who is connected to the room now, members or not. */
export const MemberList = z.object({ members: z.array(Member), online: z.array(UserRef) });
export type MemberList = z.infer<typeof MemberList>;

/** Addition to v1: someone banned from a room, by the name they had there when known. */
export const Ban = z.object({
  id: UserId,
  name: z.string().optional(),
  at: z.number().int(),
});
export type Ban = z.infer<typeof Ban>;
export const BanList = z.object({ bans: z.array(Ban) });
export type BanList = z.infer<typeof BanList>;

/** Query numbers arrive as strings; anything but a plain non-negative integer is a 400. */
const queryInt = z
  .string()
  .regex(/^\d{1,15}$/, "expected a non-negative integer")
  .transform(Number);

export const RoomsQuery = z.object({
  limit: queryInt.pipe(z.number().int().min(1).max(200)).default(50),
  /** From the previous page's `nextCursor`; it carries the sort and the prefix. */
  cursor: z.string().min(1).max(1024).optional(),
  sort: RoomSort.optional(),
  /** Only rooms whose name starts with this (room names are lower case). */
  prefix: z
    .string()
    .max(64)
    .regex(/^[a-z0-9_-]*$/, "a room name's start: a-z, 0-9, _ and -")
    .optional(),
});

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
  /** Addition: its text was redacted for good (message.redacted); `text` is empty. */
  redacted: z.literal(true).optional(),
  /** Addition (docs/attachments.md): its files, absent while it is deleted and once redacted. */
  attachments: z.array(MessageAttachment).optional(),
});
export type Message = z.infer<typeof Message>;
export const MessagesPage = z.object({ messages: z.array(Message), nextBefore: Seq.nullable() });
export type MessagesPage = z.infer<typeof MessagesPage>;

/**
 * Addition (time travel, docs/audit.md): the room as it was at event `at` (a seq) or at the
 * last event at or before `atTime` (ms): exactly one of the two. `before`/`limit` page its
 * messages as `/messages` does.
 */
export const StateAtQuery = z
  .object({
    at: queryInt.pipe(Seq).optional(),
    atTime: queryInt.optional(),
    before: queryInt.pipe(Seq).optional(),
    limit: queryInt.pipe(z.number().int().min(1).max(200)).default(50),
  })
  .refine((q) => (q.at === undefined) !== (q.atTime === undefined), {
    message: "give exactly one of at (a seq) and atTime (ms since the epoch)",
    path: ["at"],
  });
export type StateAtQuery = z.infer<typeof StateAtQuery>;

/** A moment of a room's log: exactly one of a seq and a time. */
export type Moment = { at: number } | { atTime: number };

/** The room as it was at event `seq` (time `at`), with a page of its messages as they were then. */
export const RoomStateAt = z.object({
  seq: Seq,
  at: z.number().int(),
  room: z.object({
    name: RoomName,
    topic: z.string(),
    visibility: Visibility,
    slowModeSeconds: z.number().int().nonnegative(),
    ownerId: UserId,
  }),
  members: z.array(Member),
  messages: z.array(Message),
  nextBefore: Seq.nullable(),
});
export type RoomStateAt = z.infer<typeof RoomStateAt>;

/** The REST twin of the `post` frame (frames.ts): the same fields and the same check. */
export const PostMessage = withContent(PostFields);
export const Posted = z.object({ seq: Seq });

export const RoomParam = z.object({ room: RoomName });
export const WsQuery = z.object({ since: queryInt.optional() });

export const Health = z.object({ ok: z.literal(true) });

/**
 * `/readyz` (docs/observability.md, "Health"). A database node by its role, never its address:
 * the answer is public. `lagging` is a replica further behind than REPLICA_MAX_LAG_MS, which
 * reads then skip.
 */
export const NodeCheck = z.object({
  /** "primary", "replica-1", "replica-2" … in DATABASE_REPLICA_URLS order. */
  node: z.string(),
  status: z.enum(["up", "lagging", "down"]),
  /** Replay lag of a replica in ms (0 when it has replayed all it received); null when unknown. */
  lagMs: z.number().nullable(),
});
export type NodeCheck = z.infer<typeof NodeCheck>;
export const ReadinessChecks = z.union([
  z.object({ storage: z.literal("durable-objects") }),
  z.object({
    storage: z.literal("postgres"),
    primary: NodeCheck,
    replicas: z.array(NodeCheck),
  }),
]);
export type ReadinessChecks = z.infer<typeof ReadinessChecks>;
/** 200: ready; `degraded` names the replicas that are down or lagging (reads go elsewhere). */
export const Ready = z.object({
  ok: z.literal(true),
  degraded: z.array(z.string()),
  checks: ReadinessChecks,
});
export type Ready = z.infer<typeof Ready>;
/** 503: the contract's error body (`unavailable`) plus the checks that failed and all checks. */
export const NotReady = ErrorBody.extend({
  ok: z.literal(false),
  failed: z.array(z.string()),
  checks: ReadinessChecks.optional(),
});
export type NotReady = z.infer<typeof NotReady>;

// Reads served from Postgres replicas. Without Postgres: 503 `unavailable`.
export const SearchQuery = z.object({
  q: z.string().trim().min(1, "q: give something to search for").max(200),
  limit: queryInt.pipe(z.number().int().min(1).max(100)).default(20),
  offset: queryInt.pipe(z.number().int().min(0).max(10_000)).default(0),
  /** Read-your-writes: the results must include this room's events up to `seq`… */
  room: RoomName.optional(),
  seq: queryInt.optional(),
  /** …or this primary LSN (e.g. `0/16B6C50`). */
  lsn: z
    .string()
    .regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, "lsn: like 0/16B6C50")
    .optional(),
});
const HighlightPiece = z.object({ text: z.string(), match: z.boolean() });
export const SearchHit = z.object({
  room: RoomName,
  id: Seq,
  author: UserRef,
  text: z.string(),
  at: z.number().int(),
  rank: z.number(),
  /** The text around the matches, cut into pieces; render `match` pieces highlighted, as text. */
  highlight: z.array(HighlightPiece),
  /**
   * Addition (docs/attachments.md): the transcripts of its voice attachments around the matches,
   * cut into pieces as `highlight` is; absent when it has none. A voice message's text is often
   * empty: then this is what the hit shows.
   */
  transcript: z.array(HighlightPiece).optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;
export const SearchResults = z.object({
  results: z.array(SearchHit),
  nextOffset: z.number().int().nullable(),
});
export const DirectoryList = z.object({
  rooms: z.array(
    z.object({
      name: RoomName,
      topic: z.string(),
      members: z.number().int(),
      messages: z.number().int(),
      lastActivityAt: z.number().int(),
      lastSeq: z.number().int(),
    }),
  ),
});
export const MyRooms = z.object({
  rooms: z.array(
    z.object({
      name: RoomName,
      topic: z.string(),
      visibility: Visibility,
      role: Role,
      lastActivityAt: z.number().int(),
      lastSeq: z.number().int(),
    }),
  ),
});
/**
 * One of your rooms as the room itself sees it, for GraphQL's `me.rooms` (no Postgres): your
 * role, how far the log has gone, your read marker, and how many messages by others are past it
 * (counted up to `UNREAD_CAP`).
 */
export type YourRoom = z.infer<typeof MyRooms>["rooms"][number] & {
  readSeq: number;
  unread: number;
};
/** How many unread messages a room counts at most: the count reads at most this many rows. */
export const UNREAD_CAP = 1000;
/** One Postgres node as the read router last saw it. */
export const NodeReport = z.object({
  url: z.string(),
  role: z.enum(["primary", "replica"]),
  healthy: z.boolean(),
  /** The circuit is open until this time (ms): the node is not tried before. */
  openUntil: z.number(),
  lagBytes: z.number().nullable(),
  lagMs: z.number().nullable(),
  replayLsn: z.string().nullable(),
  paused: z.boolean(),
  error: z.string().nullable(),
  checkedAt: z.number(),
});
export type NodeReport = z.infer<typeof NodeReport>;
export const ReplicaReport = z.object({
  nodes: z.array(NodeReport),
  maxLagMs: z.number().int(),
});
export type ReplicaReport = z.infer<typeof ReplicaReport>;
export const BacklogReport = z.object({
  total: z.number().int(),
  rooms: z.array(
    z.object({
      name: RoomName,
      lastSeq: z.number().int(),
      flushedSeq: z.number().int(),
      backlog: z.number().int(),
      attempts: z.number().int(),
      lastError: z.string().nullable(),
    }),
  ),
});
export type BacklogReport = z.infer<typeof BacklogReport>;
