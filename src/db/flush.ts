import { and, eq, inArray, sql } from "drizzle-orm";
import {
  EVENT_VERSION,
  TEXT_EVENT_TYPES,
  REDACTED_FIELDS,
  unhandled,
  type RoomEvent,
  type UserRef,
} from "../protocol/index.ts";
import type { Db } from "./connect.ts";
import { bans, events, members, messages, reactions, roomCursors, rooms, users } from "./schema.ts";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Writes a contiguous run of a room's events to Postgres in one transaction and returns the
 * room's cursor afterwards. Exactly once in effect: the cursor row is locked, events it already
 * holds are skipped, and it moves in the same transaction as the rows. Events are applied in
 * seq order; runs of new messages go in one multi-row insert. A batch that would leave a gap
 * writes nothing and returns the cursor, so that the caller resends from there.
 */
export async function flushEvents(
  db: Db,
  room: string,
  batch: readonly RoomEvent[],
): Promise<number> {
  return db.transaction(async (tx) => {
    const cursor = await lockCursor(tx, room);
    const fresh = batch.filter((event) => event.seq > cursor);
    if (fresh.length === 0) return cursor;
    // Postgres holds less than the room believed (a restored database): the room must resend
    // from Postgres's cursor, which it learns from the return value.
    if (fresh[0]!.seq !== cursor + 1) return cursor;
    await tx
      .insert(events)
      .values(fresh.map((event) => eventRow(room, event)))
      .onConflictDoNothing();
    await upsertUsers(tx, fresh);
    let posted: RoomEvent[] = [];
    for (const event of fresh) {
      if (event.type === "message.posted") {
        posted.push(event);
        continue;
      }
      await insertMessages(tx, room, posted);
      posted = [];
      await project(tx, room, event);
    }
    await insertMessages(tx, room, posted);
    const last = fresh.at(-1)!;
    const newMessages = fresh.filter((e) => e.type === "message.posted").length;
    await tx
      .update(rooms)
      .set({
        lastSeq: last.seq,
        lastActivityAt: last.at,
        messages: sql`${rooms.messages} + ${newMessages}`,
        members: sql`(SELECT count(*) FROM ${members} WHERE ${members.room} = ${room})`,
      })
      .where(eq(rooms.name, room));
    await tx
      .update(roomCursors)
      .set({ seq: last.seq, flushedAt: Date.now() })
      .where(eq(roomCursors.room, room));
    return last.seq;
  });
}

/** A room event as a row of the `events` mirror. */
export function eventRow(room: string, event: RoomEvent) {
  const { seq, id, type, at, actor, data, hash = null, prevHash = null } = event;
  return {
    room,
    seq,
    id,
    type,
    at,
    actorId: actor.id,
    actorName: actor.name,
    data,
    hash,
    prevHash,
    version: EVENT_VERSION[type],
    messageId: type === "message.posted" ? seq : "messageId" in data ? data.messageId : null,
    // Set by the flush of the message's redaction, which comes later in the log.
    redactedBy: null,
  };
}

async function lockCursor(tx: Tx, room: string): Promise<number> {
  await tx.insert(roomCursors).values({ room, seq: 0, flushedAt: 0 }).onConflictDoNothing();
  const [row] = await tx
    .select({ seq: roomCursors.seq })
    .from(roomCursors)
    .where(eq(roomCursors.room, room))
    .for("update");
  return row?.seq ?? 0;
}

async function upsertUsers(tx: Tx, batch: readonly RoomEvent[]): Promise<void> {
  const seen = new Map<
    string,
    { id: string; name: string; kind: "guest" | "user"; lastSeenAt: number }
  >();
  const note = (id: string, name: string, at: number) =>
    seen.set(id, { id, name, kind: id.startsWith("g_") ? "guest" : "user", lastSeenAt: at });
  for (const event of batch)
    for (const user of [event.actor, ...invitedBy(event)]) note(user.id, user.name, event.at);
  // In id order: flushes of rooms sharing users would otherwise lock the rows in different
  // orders and deadlock.
  const rows = [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await tx
    .insert(users)
    .values(rows)
    .onConflictDoUpdate({
      target: users.id,
      set: { name: sql`excluded.name`, lastSeenAt: sql`excluded.last_seen_at` },
    });
}

/** Users an event names with their display name besides its actor: only invitations do. */
function invitedBy(event: RoomEvent): UserRef[] {
  switch (event.type) {
    case "member.invited":
      return [event.data.user];
    case "room.created":
    case "room.topic_changed":
    case "room.slow_mode_changed":
    case "room.ownership_transferred":
    case "member.joined":
    case "member.left":
    case "member.role_changed":
    case "member.kicked":
    case "member.banned":
    case "member.unbanned":
    case "member.muted":
    case "member.unmuted":
    case "message.posted":
    case "message.edited":
    case "message.deleted":
    case "message.restored":
    case "message.redacted":
    case "reaction.added":
    case "reaction.removed":
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
    case "message.transcribed":
      return [];
    default:
      return unhandled(event);
  }
}

/**
 * The message's text leaves Postgres: its row, and every mirrored event that carried it (events
 * flushed later come from the room already emptied).
 */
async function redact(tx: Tx, room: string, messageId: number, by: number): Promise<void> {
  await tx
    .update(messages)
    .set({ text: "", transcript: "", redacted: true })
    .where(and(eq(messages.room, room), eq(messages.id, messageId)));
  await tx
    .update(events)
    .set({
      data: sql`jsonb_set(${events.data} - ${sql.raw(REDACTED_FIELDS.map((f) => `'${f}'`).join(" - "))}, '{text}', '""')`,
      redactedBy: by,
    })
    .where(
      and(
        eq(events.room, room),
        eq(events.messageId, messageId),
        inArray(events.type, [...TEXT_EVENT_TYPES]),
      ),
    );
}

async function insertMessages(tx: Tx, room: string, posted: readonly RoomEvent[]): Promise<void> {
  const rows = posted.flatMap((e) =>
    e.type === "message.posted"
      ? [
          {
            room,
            id: e.seq,
            authorId: e.actor.id,
            authorName: e.actor.name,
            text: e.data.text,
            at: e.at,
            replyTo: e.data.replyTo ?? null,
          },
        ]
      : [],
  );
  if (rows.length > 0) await tx.insert(messages).values(rows).onConflictDoNothing();
}

const member = (room: string, userId: string) =>
  and(eq(members.room, room), eq(members.userId, userId));

/** Every event but message.posted, one at a time, in order: the same rules as src/room/project.ts. */
async function project(tx: Tx, room: string, event: RoomEvent): Promise<void> {
  switch (event.type) {
    case "room.created":
      await tx
        .insert(rooms)
        .values({
          name: room,
          topic: event.data.topic,
          visibility: event.data.visibility,
          ownerId: event.actor.id,
          createdAt: event.at,
        })
        .onConflictDoNothing();
      return;
    case "room.topic_changed":
      await tx.update(rooms).set({ topic: event.data.topic }).where(eq(rooms.name, room));
      return;
    case "room.slow_mode_changed":
      return;
    case "room.ownership_transferred":
      await tx
        .update(members)
        .set({ role: "moderator" })
        .where(and(eq(members.room, room), eq(members.role, "owner")));
      await tx.update(members).set({ role: "owner" }).where(member(room, event.data.userId));
      await tx.update(rooms).set({ ownerId: event.data.userId }).where(eq(rooms.name, room));
      return;
    case "member.joined": {
      const role = sql`CASE WHEN (SELECT ${rooms.ownerId} FROM ${rooms} WHERE ${rooms.name} = ${room}) = ${event.actor.id} THEN 'owner' ELSE 'member' END`;
      await tx.insert(members).values({ room, userId: event.actor.id, role }).onConflictDoNothing();
      return;
    }
    case "member.invited":
      await tx
        .insert(members)
        .values({ room, userId: event.data.user.id, role: event.data.role })
        .onConflictDoNothing();
      return;
    case "member.role_changed":
      await tx
        .update(members)
        .set({ role: event.data.role })
        .where(member(room, event.data.userId));
      return;
    case "member.left":
      await tx.delete(members).where(member(room, event.actor.id));
      return;
    case "member.kicked":
      await tx.delete(members).where(member(room, event.data.userId));
      return;
    case "member.banned":
      await tx.delete(members).where(member(room, event.data.userId));
      await tx.insert(bans).values({ room, userId: event.data.userId }).onConflictDoNothing();
      return;
    case "member.unbanned":
      await tx.delete(bans).where(and(eq(bans.room, room), eq(bans.userId, event.data.userId)));
      return;
    case "member.muted":
    case "member.unmuted":
      return;
    case "message.posted":
      return;
    // A room's rules and plugins are read from the room itself: Postgres keeps their events only.
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
      return;
    case "message.edited":
      await tx
        .update(messages)
        .set({ text: event.data.text, editedAt: event.at })
        .where(and(eq(messages.room, room), eq(messages.id, event.data.messageId)));
      return;
    case "message.deleted":
      // Its reactions stay, as in the room: an undo may restore it.
      await tx
        .update(messages)
        .set({ text: "", deleted: true })
        .where(and(eq(messages.room, room), eq(messages.id, event.data.messageId)));
      return;
    case "message.restored":
      await tx
        .update(messages)
        .set({ text: event.data.text, deleted: false })
        .where(and(eq(messages.room, room), eq(messages.id, event.data.messageId)));
      return;
    case "message.redacted":
      await redact(tx, room, event.data.messageId, event.seq);
      return;
    case "message.transcribed":
      // A message may carry several voice attachments: their transcripts are searched together.
      await tx
        .update(messages)
        .set({
          transcript: sql`CASE WHEN ${messages.transcript} = '' THEN ${event.data.text} ELSE ${messages.transcript} || ' ' || ${event.data.text} END`,
        })
        .where(and(eq(messages.room, room), eq(messages.id, event.data.messageId)));
      return;
    case "reaction.added":
      await tx
        .insert(reactions)
        .values({
          room,
          messageId: event.data.messageId,
          emoji: event.data.emoji,
          userId: event.actor.id,
        })
        .onConflictDoNothing();
      return;
    case "reaction.removed":
      await tx
        .delete(reactions)
        .where(
          and(
            eq(reactions.room, room),
            eq(reactions.messageId, event.data.messageId),
            eq(reactions.emoji, event.data.emoji),
            eq(reactions.userId, event.actor.id),
          ),
        );
      return;
    default:
      unhandled(event);
  }
}
