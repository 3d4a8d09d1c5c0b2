import type {
  Ban,
  Member,
  MessagesPage,
  Role,
  RoomEvent,
  RoomInfo,
  YourRoom,
} from "../protocol/index.ts";
import { UNREAD_CAP } from "../protocol/index.ts";
import type { RoomView } from "./decide.ts";
import type { Rule } from "../protocol/automation.ts";
import { LoggedRule, type RoomPluginList } from "../protocol/rules.ts";
import { readEvent } from "./log.ts";
import { uploadRecord } from "./upload-rows.ts";
import { postableAttachment } from "../media/upload-rules.ts";
import { RULE_EVENTS_SQL, RULE_ID_SQL } from "./schema.ts";
import { isUndoable, type UndoableEvent } from "./undo.ts";
import {
  KEEPS_STANDINGS,
  toMessage,
  type MessageRow,
  type RoomRow,
  type RuleRow,
  type Standing,
} from "./read-rows.ts";

/** Standings kept at most: a room's active posters, not all its members. */
const MAX_STANDINGS = 10_000;

/**
 * Queries over the projections: what the rules see and what readers are served. The room's row
 * and the standings of recent actors are kept in memory, as the log's listener: emptied by any
 * event that could change them and by any rollback, so they always equal the tables.
 */
export class ReadModel {
  readonly #sql: SqlStorage;
  readonly #inviteLimit: RoomView["inviteLimit"];
  #room: { row: RoomRow | undefined } | undefined;
  readonly #standings = new Map<string, Standing>();
  constructor(sql: SqlStorage, inviteLimit: RoomView["inviteLimit"]) {
    this.#sql = sql;
    this.#inviteLimit = inviteLimit;
  }

  /** The log appended `events` (not yet committed): forget what they may have changed. */
  appended(events: readonly RoomEvent[]): void {
    if (events.every((event) => KEEPS_STANDINGS[event.type])) return;
    this.#forget();
  }

  /** The log's uncommitted appends were rolled back: what was read since may be gone. */
  rolledBack(): void {
    this.#forget();
  }

  room(): RoomRow | undefined {
    this.#room ??= { row: this.#sql.exec<RoomRow>("SELECT * FROM room").toArray()[0] };
    return this.#room.row;
  }

  /** The view the pure rules decide on; undefined for a room never created. */
  view(): RoomView | undefined {
    const room = this.room();
    if (!room) return undefined;
    const sql = this.#sql;
    const standing = (userId: string): Standing => this.#standing(userId);
    return {
      name: room.name,
      visibility: room.visibility,
      slowModeSeconds: room.slow_mode_seconds,
      ownerId: room.owner_id,
      role: (userId) => standing(userId).role ?? undefined,
      isBanned: (userId) => standing(userId).banned === 1,
      mutedUntil: (userId) => standing(userId).until ?? 0,
      lastPostAt: (userId) =>
        sql
          .exec<{ at: number | null }>(
            "SELECT max(at) AS at FROM messages WHERE author_id = ?",
            userId,
          )
          .one().at ?? 0,
      message: (id) => {
        const row = sql
          .exec<{ author_id: string; deleted: number; redacted: number }>(
            "SELECT author_id, deleted, redacted FROM messages WHERE id = ?",
            id,
          )
          .toArray()[0];
        return (
          row && {
            authorId: row.author_id,
            deleted: row.deleted === 1,
            redacted: row.redacted === 1,
          }
        );
      },
      textBefore: (id, seq) =>
        sql
          .exec<{ text: string }>(
            `SELECT json_extract(data, '$.text') AS text FROM events
             WHERE message_id = ? AND seq < ? AND type IN ('message.posted', 'message.edited', 'message.restored')
             ORDER BY seq DESC LIMIT 1`,
            id,
            Math.min(seq, Number.MAX_SAFE_INTEGER),
          )
          .toArray()[0]?.text,
      lastAction: (userId) =>
        this.#action(
          "SELECT seq FROM actions WHERE user_id = ? AND undone_at IS NULL ORDER BY seq DESC LIMIT 1",
          userId,
        ),
      lastUndone: (userId) =>
        this.#action(
          "SELECT seq FROM actions WHERE user_id = ? AND undone_at IS NOT NULL ORDER BY undone_at DESC LIMIT 1",
          userId,
        ),
      invitesSince: (since) => {
        const row = sql
          .exec<{ count: number; oldest: number | null }>(
            "SELECT count(*) AS count, min(at) AS oldest FROM invites WHERE at > ?",
            since,
          )
          .one();
        return { count: row.count, oldestAt: row.oldest ?? since };
      },
      inviteLimit: this.#inviteLimit,
      rule: (id) => this.#rule(id),
      ruleCount: () => sql.exec<{ n: number }>("SELECT count(*) AS n FROM rules").one().n,
      ruleBefore: (id, seq) => {
        const last = sql
          .exec<{ seq: number }>(
            `SELECT seq FROM events WHERE ${RULE_EVENTS_SQL} AND ${RULE_ID_SQL} = ? AND seq < ?
             ORDER BY seq DESC LIMIT 1`,
            id,
            seq,
          )
          .toArray()[0];
        const event = last && readEvent(sql, last.seq);
        return event?.type === "rule.saved" ? event.data.rule : undefined;
      },
      pluginEnabled: (plugin) =>
        sql.exec("SELECT 1 FROM room_plugins WHERE plugin = ? AND enabled = 1", plugin).toArray()
          .length > 0,
      postableUpload: (userId, id) => postableAttachment(uploadRecord(sql, id), userId),
      hasReaction: (messageId, emoji, userId) =>
        sql
          .exec(
            "SELECT 1 FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            messageId,
            emoji,
            userId,
          )
          .toArray().length > 0,
    };
  }

  info(lastSeq: number, online: number): RoomInfo | undefined {
    const room = this.room();
    if (!room) return undefined;
    const members = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM members").one().n;
    return {
      name: room.name,
      topic: room.topic,
      visibility: room.visibility,
      createdAt: room.created_at,
      lastSeq,
      members,
      online,
      slowModeSeconds: room.slow_mode_seconds,
      ...(room.shards > 0 ? { shards: room.shards } : {}),
    };
  }

  /** Messages with id < before, newest first, with their reactions. */
  messages(before: number | undefined, limit: number): MessagesPage {
    const rows = this.#sql
      .exec<MessageRow>(
        "SELECT * FROM messages WHERE id < ? ORDER BY id DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    // A deleted message keeps its reactions (an undo may restore it), but does not show them.
    const reactions = this.#reactions(page.filter((m) => m.deleted === 0).map((m) => m.id));
    const messages = page.map((row) => toMessage(row, reactions.get(row.id) ?? {}));
    return { messages, nextBefore: rows.length > limit ? page.at(-1)!.id : null };
  }

  /** Every member with their role, owners first, then moderators, then by name. */
  members(now: number): Member[] {
    return this.#sql
      .exec<{ user_id: string; name: string; role: Role; joined_at: number; until: number | null }>(
        `SELECT m.user_id, m.name, m.role, m.joined_at, u.until FROM members m LEFT JOIN mutes u ON u.user_id = m.user_id
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, m.name COLLATE NOCASE`,
      )
      .toArray()
      .map((row) => ({
        id: row.user_id,
        name: row.name,
        role: row.role,
        joinedAt: row.joined_at,
        ...(row.until !== null && row.until > now ? { mutedUntil: row.until } : {}),
      }));
  }

  /** Everyone banned here, the latest ban first. */
  bans(): Ban[] {
    return this.#sql
      .exec<{ user_id: string; name: string | null; at: number }>(
        "SELECT user_id, name, at FROM bans ORDER BY at DESC, user_id",
      )
      .toArray()
      .map((row) => ({ id: row.user_id, at: row.at, ...(row.name ? { name: row.name } : {}) }));
  }

  /** The room's rules, in the order they were first saved (docs/automation.md). */
  rules(): Rule[] {
    return this.#sql
      .exec<RuleRow>("SELECT * FROM rules ORDER BY position, id")
      .toArray()
      .map((row) => ({
        ...LoggedRule.parse(JSON.parse(row.json)),
        by: { id: row.saved_by, name: row.saved_by_name },
        savedAt: row.saved_at,
      }));
  }

  /** A member's name, or undefined for someone who is not a member. */
  memberName(userId: string): string | undefined {
    return this.#sql
      .exec<{ name: string }>("SELECT name FROM members WHERE user_id = ?", userId)
      .toArray()[0]?.name;
  }

  /** A message's text now, or undefined when it is gone (deleted, redacted, never there). */
  messageText(id: number): string | undefined {
    return this.#sql
      .exec<{ text: string }>(
        "SELECT text FROM messages WHERE id = ? AND deleted = 0 AND redacted = 0",
        id,
      )
      .toArray()[0]?.text;
  }

  /** Every plugin ever turned on here, on or off now, by id. */
  plugins(): RoomPluginList["plugins"] {
    return this.#sql
      .exec<{ plugin: string; enabled: number; at: number }>(
        "SELECT plugin, enabled, at FROM room_plugins ORDER BY plugin",
      )
      .toArray()
      .map((row) => ({ plugin: row.plugin, enabled: row.enabled === 1, at: row.at }));
  }

  readSeq(userId: string): number {
    return (
      this.#sql
        .exec<{ seq: number }>("SELECT seq FROM read_markers WHERE user_id = ?", userId)
        .toArray()[0]?.seq ?? 0
    );
  }

  /** Moves a read marker forward only: a late frame from another tab must not move it back. */
  markRead(userId: string, seq: number): void {
    this.#sql.exec(
      "INSERT INTO read_markers (user_id, seq) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq)",
      userId,
      seq,
    );
  }

  /**
   * The room as `userId`'s list of rooms shows it; undefined unless they are a member. Unread are
   * the messages by others past their read marker that are not deleted, counted up to UNREAD_CAP
   * so that the count walks at most that many rows of the messages' primary key.
   */
  yourRoom(userId: string, lastSeq: number): YourRoom | undefined {
    const room = this.room();
    const role = room && this.#standing(userId).role;
    if (!room || !role) return undefined;
    const readSeq = this.readSeq(userId);
    const unread = this.#sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM
           (SELECT 1 FROM messages WHERE id > ? AND author_id <> ? AND deleted = 0 LIMIT ?)`,
        readSeq,
        userId,
        UNREAD_CAP,
      )
      .one().n;
    const last = this.#sql
      .exec<{ at: number }>("SELECT at FROM events WHERE seq = ?", lastSeq)
      .toArray()[0];
    return {
      name: room.name,
      topic: room.topic,
      visibility: room.visibility,
      role,
      lastSeq,
      lastActivityAt: last?.at ?? room.created_at,
      readSeq,
      unread,
    };
  }

  #standing(userId: string): Standing {
    let found = this.#standings.get(userId);
    if (!found) {
      if (this.#standings.size >= MAX_STANDINGS) this.#standings.clear();
      found = this.#sql
        .exec<Standing>(
          `SELECT (SELECT role FROM members WHERE user_id = ?) AS role,
                  EXISTS (SELECT 1 FROM bans WHERE user_id = ?) AS banned,
                  (SELECT until FROM mutes WHERE user_id = ?) AS until`,
          userId,
          userId,
          userId,
        )
        .one();
      this.#standings.set(userId, found);
    }
    return found;
  }

  /** The action whose seq `query` finds, read back from the log. */
  #action(query: string, userId: string): UndoableEvent | undefined {
    const seq = this.#sql.exec<{ seq: number }>(query, userId).toArray()[0]?.seq;
    const event = seq === undefined ? undefined : readEvent(this.#sql, seq);
    return event && isUndoable(event) ? event : undefined;
  }

  /** Rule `id` as stored, checked against the contract: storage is read, never trusted. */
  #rule(id: string): LoggedRule | undefined {
    const row = this.#sql
      .exec<{ json: string }>("SELECT json FROM rules WHERE id = ?", id)
      .toArray()[0];
    return row && LoggedRule.parse(JSON.parse(row.json));
  }

  #forget(): void {
    this.#room = undefined;
    this.#standings.clear();
  }

  #reactions(ids: number[]): Map<number, Record<string, string[]>> {
    const byMessage = new Map<number, Record<string, string[]>>();
    if (ids.length === 0) return byMessage;
    const rows = this.#sql
      .exec<{ message_id: number; emoji: string; user_id: string }>(
        "SELECT message_id, emoji, user_id FROM reactions WHERE message_id BETWEEN ? AND ? ORDER BY at, user_id",
        Math.min(...ids),
        Math.max(...ids),
      )
      .toArray();
    for (const row of rows) {
      const reactions = byMessage.get(row.message_id) ?? {};
      (reactions[row.emoji] ??= []).push(row.user_id);
      byMessage.set(row.message_id, reactions);
    }
    return byMessage;
  }
}
