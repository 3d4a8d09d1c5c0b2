import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
} from "drizzle-orm/pg-core";

/**
 * The Postgres mirror of every room: a projection of the rooms' logs, written only by the flush
 * (src/db/flush.ts) and read through replicas. Times are milliseconds since the epoch, as on
 * the wire.
 */
const ms = (name: string) => bigint(name, { mode: "number" });

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

export const rooms = pgTable("rooms", {
  name: text("name").primaryKey(),
  topic: text("topic").notNull().default(""),
  visibility: text("visibility", { enum: ["public", "private"] }).notNull(),
  ownerId: text("owner_id").notNull(),
  createdAt: ms("created_at").notNull(),
  lastSeq: ms("last_seq").notNull().default(0),
  members: integer("members").notNull().default(0),
  messages: integer("messages").notNull().default(0),
  lastActivityAt: ms("last_activity_at").notNull().default(0),
});

/** Everyone who ever acted in a room: a projection of event actors and invitations. */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  kind: text("kind", { enum: ["guest", "user"] }).notNull(),
  lastSeenAt: ms("last_seen_at").notNull(),
});

/** The full event mirror, idempotent on (room, seq). */
export const events = pgTable(
  "events",
  {
    room: text("room").notNull(),
    seq: ms("seq").notNull(),
    id: text("id").notNull().unique(),
    type: text("type").notNull(),
    at: ms("at").notNull(),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name").notNull(),
    data: jsonb("data").notNull(),
    /** The event's link in the room's hash chain (docs/audit.md); null for events flushed before it. */
    hash: text("hash"),
    prevHash: text("prev_hash"),
    /** The version of `data` (src/protocol/upcast.ts): the flush writes events as the room serves them, upcast. */
    version: integer("version").notNull().default(1),
    /** The message the event is about, for a redaction to find the events that carry its text. */
    messageId: ms("message_id"),
    /** The `message.redacted` event that emptied this event's text. */
    redactedBy: ms("redacted_by"),
  },
  (t) => [
    primaryKey({ columns: [t.room, t.seq] }),
    index("events_actor").on(t.actorId),
    index("events_message").on(t.room, t.messageId),
  ],
);

/** The current state of every message, with a full-text index over its text. */
export const messages = pgTable(
  "messages",
  {
    room: text("room").notNull(),
    id: ms("id").notNull(),
    authorId: text("author_id").notNull(),
    authorName: text("author_name").notNull(),
    text: text("text").notNull(),
    at: ms("at").notNull(),
    editedAt: ms("edited_at"),
    replyTo: ms("reply_to"),
    deleted: boolean("deleted").notNull().default(false),
    redacted: boolean("redacted").notNull().default(false),
    /** The transcripts of its voice attachments (message.transcribed), searched with its text. */
    transcript: text("transcript").notNull().default(""),
    search: tsvector("search")
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('simple', "text" || ' ' || "transcript")`),
  },
  (t) => [
    primaryKey({ columns: [t.room, t.id] }),
    index("messages_search").using("gin", t.search),
    index("messages_room_at").on(t.room, t.at),
  ],
);

export const reactions = pgTable(
  "reactions",
  {
    room: text("room").notNull(),
    messageId: ms("message_id").notNull(),
    emoji: text("emoji").notNull(),
    userId: text("user_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.room, t.messageId, t.emoji, t.userId] })],
);

/** Who may read a private room, and whose rooms are whose. */
export const members = pgTable(
  "members",
  {
    room: text("room").notNull(),
    userId: text("user_id").notNull(),
    role: text("role", { enum: ["owner", "moderator", "member"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.room, t.userId] }), index("members_user").on(t.userId)],
);

export const bans = pgTable(
  "bans",
  { room: text("room").notNull(), userId: text("user_id").notNull() },
  (t) => [primaryKey({ columns: [t.room, t.userId] })],
);

/**
 * How far each room has been flushed: the flush locks this row, skips what it already holds,
 * and moves it in the same transaction as the rows it writes. Replicas show it too, which is
 * how a read that must include (room, seq) knows whether a replica is recent enough.
 */
export const roomCursors = pgTable("room_cursors", {
  room: text("room").primaryKey(),
  seq: ms("seq").notNull(),
  flushedAt: ms("flushed_at").notNull(),
});

/**
 * The mirror of the instance audit log (docs/audit.md), written only by its flush
 * (src/db/audit-flush.ts) and read from the replicas by actor, action and time range.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    seq: ms("seq").primaryKey(),
    id: text("id").notNull().unique(),
    at: ms("at").notNull(),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    target: jsonb("target").notNull(),
    ip: text("ip"),
    data: jsonb("data").notNull(),
    contentHash: text("content_hash").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_log_actor_at").on(t.actorId, t.at),
    index("audit_log_actor_name_at").on(sql`lower(${t.actorName})`, t.at),
    index("audit_log_action_at").on(t.action, t.at),
    index("audit_log_at").on(t.at),
  ],
);

/** How far the audit log has been flushed: locked and moved in the flush's own transaction. */
export const auditCursor = pgTable("audit_cursor", {
  log: text("log").primaryKey(),
  seq: ms("seq").notNull(),
  flushedAt: ms("flushed_at").notNull(),
});
