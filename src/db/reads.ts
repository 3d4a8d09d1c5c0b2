import { and, desc, eq, sql } from "drizzle-orm";
import type { Actor } from "../identity/actor.ts";
import type { SearchHit } from "../protocol/index.ts";
import type { Db } from "./connect.ts";
import { members, rooms } from "./schema.ts";

// Private-use characters mark the matches in ts_headline; they are split out before sending.
const START = "\uE000";
const STOP = "\uE001";
const HEADLINE = `StartSel=${START}, StopSel=${STOP}, MaxFragments=2, MinWords=5, MaxWords=20`;

/** Rooms `actor` may read: public ones they are not banned from, the ones they belong to. */
function readable(actor: Actor, room: ReturnType<typeof sql.raw>) {
  if (actor.admin) return sql`true`;
  return sql`((${room}.visibility = 'public' AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room = ${room}.name AND b.user_id = ${actor.id}))
    OR EXISTS (SELECT 1 FROM members m WHERE m.room = ${room}.name AND m.user_id = ${actor.id}))`;
}

/**
 * Full-text search over the messages of every room the caller may read, best matches first: their
 * text and the transcripts of their voice attachments (one tsvector over both, migration 0004).
 * A hit's transcript is cut around the matches as its text is, so that a voice message, whose
 * text is often empty, shows what was said.
 */
export async function searchMessages(
  db: Db,
  actor: Actor,
  query: string,
  limit: number,
  offset: number,
): Promise<SearchHit[]> {
  const result = await db.execute<{
    room: string;
    id: string;
    author_id: string;
    author_name: string;
    text: string;
    at: string;
    rank: number;
    headline: string;
    transcript_headline: string | null;
  }>(
    // A total order (room and id break ties of rank and time: posts of the same millisecond
    // rank alike), so that offset pages neither repeat nor skip a hit.
    sql`WITH q AS (SELECT websearch_to_tsquery('simple', ${query}) AS query)
    SELECT msg.room, msg.id, msg.author_id, msg.author_name, msg.text, msg.at,
      ts_rank(msg.search, q.query) AS rank,
      ts_headline('simple', msg.text, q.query, ${HEADLINE}) AS headline,
      CASE WHEN msg.transcript <> '' THEN ts_headline('simple', msg.transcript, q.query, ${HEADLINE}) END AS transcript_headline
    FROM messages msg JOIN rooms r ON r.name = msg.room, q
    WHERE msg.search @@ q.query AND NOT msg.deleted AND ${readable(actor, sql.raw("r"))}
    ORDER BY rank DESC, msg.at DESC, msg.room, msg.id DESC
    LIMIT ${limit} OFFSET ${offset}`,
  );
  return result.rows.map((row) => ({
    room: row.room,
    id: Number(row.id),
    author: { id: row.author_id, name: row.author_name },
    text: row.text,
    at: Number(row.at),
    rank: Number(row.rank),
    highlight: splitHighlight(row.headline),
    ...(row.transcript_headline === null
      ? {}
      : { transcript: splitHighlight(row.transcript_headline) }),
  }));
}

/** Turns ts_headline's marked text into pieces, so that no client ever renders markup. */
export function splitHighlight(headline: string): { text: string; match: boolean }[] {
  const pieces: { text: string; match: boolean }[] = [];
  for (const part of headline.split(START)) {
    const [hit, rest] = part.includes(STOP) ? part.split(STOP, 2) : [undefined, part];
    if (hit) pieces.push({ text: hit, match: true });
    if (rest) pieces.push({ text: rest, match: false });
  }
  return pieces;
}

export type DirectoryEntry = {
  name: string;
  topic: string;
  members: number;
  messages: number;
  lastActivityAt: number;
  lastSeq: number;
};

/** The public rooms, most recently active first, with their activity figures. */
export async function publicDirectory(db: Db, limit: number): Promise<DirectoryEntry[]> {
  return db
    .select({
      name: rooms.name,
      topic: rooms.topic,
      members: rooms.members,
      messages: rooms.messages,
      lastActivityAt: rooms.lastActivityAt,
      lastSeq: rooms.lastSeq,
    })
    .from(rooms)
    .where(eq(rooms.visibility, "public"))
    .orderBy(desc(rooms.lastActivityAt))
    .limit(limit);
}

/** The rooms `userId` belongs to, with their role, most recently active first. */
export async function roomsOf(db: Db, userId: string) {
  return db
    .select({
      name: rooms.name,
      topic: rooms.topic,
      visibility: rooms.visibility,
      role: members.role,
      lastActivityAt: rooms.lastActivityAt,
      lastSeq: rooms.lastSeq,
    })
    .from(members)
    .innerJoin(rooms, eq(rooms.name, members.room))
    .where(and(eq(members.userId, userId)))
    .orderBy(desc(rooms.lastActivityAt));
}
