import { unhandled, type RoomEvent } from "../protocol/index.ts";
import {
  withTranscript,
  type MessageAttachment,
  type TranscriptData,
} from "../protocol/attachments.ts";
import type { UndoableEvent } from "./room-view.ts";
import { PROJECTION_TABLES, RULE_EVENTS_SQL, RULE_ID_SQL } from "./schema.ts";
import { snapshotIfDue } from "./snapshots.ts";
import { projectFiles } from "./file-deletions.ts";

type Sql = SqlStorage;

/**
 * Applies one event to the projections, then writes the roster's snapshot when one is due.
 * Called in the same transaction as the append, and by `rebuildProjections`, so the live path
 * and a replay of the log cannot drift apart.
 */
export function project(sql: Sql, event: RoomEvent): void {
  projectTables(sql, event);
  projectFiles(sql, event);
  snapshotIfDue(sql, event);
}

function projectTables(sql: Sql, event: RoomEvent): void {
  switch (event.type) {
    case "room.created":
      sql.exec(
        "INSERT INTO room (singleton, name, topic, visibility, created_at, created_by, owner_id, shards) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        event.data.name,
        event.data.topic,
        event.data.visibility,
        event.at,
        event.actor.id,
        event.actor.id,
        event.data.shards ?? 0,
      );
      return;
    case "room.topic_changed":
      sql.exec("UPDATE room SET topic = ?", event.data.topic);
      return;
    case "member.joined":
      // The room's creator joins right after room.created, as its owner.
      addMember(
        sql,
        event.actor,
        event.at,
        "(SELECT CASE WHEN owner_id = ? THEN 'owner' ELSE 'member' END FROM room)",
        event.actor.id,
      );
      return;
    case "member.invited":
      addMember(sql, event.data.user, event.at, "?", event.data.role);
      sql.exec("INSERT INTO invites (seq, at) VALUES (?, ?)", event.seq, event.at);
      return;
    case "member.left":
      sql.exec("DELETE FROM members WHERE user_id = ?", event.actor.id);
      return;
    case "member.kicked":
      sql.exec("DELETE FROM members WHERE user_id = ?", event.data.userId);
      return;
    case "member.banned":
      // The name first: it comes from the member row the ban removes.
      sql.exec(
        "INSERT OR REPLACE INTO bans (user_id, at, name) VALUES (?, ?, (SELECT name FROM members WHERE user_id = ?))",
        event.data.userId,
        event.at,
        event.data.userId,
      );
      sql.exec("DELETE FROM members WHERE user_id = ?", event.data.userId);
      return;
    case "member.unbanned":
      sql.exec("DELETE FROM bans WHERE user_id = ?", event.data.userId);
      return;
    case "member.muted":
      sql.exec(
        "INSERT OR REPLACE INTO mutes (user_id, until) VALUES (?, ?)",
        event.data.userId,
        event.data.until,
      );
      return;
    case "member.unmuted":
      sql.exec("DELETE FROM mutes WHERE user_id = ?", event.data.userId);
      return;
    case "member.role_changed":
      sql.exec("UPDATE members SET role = ? WHERE user_id = ?", event.data.role, event.data.userId);
      return;
    case "room.ownership_transferred":
      sql.exec("UPDATE members SET role = 'moderator' WHERE role = 'owner'");
      sql.exec("UPDATE members SET role = 'owner' WHERE user_id = ?", event.data.userId);
      sql.exec("UPDATE room SET owner_id = ?", event.data.userId);
      return;
    case "room.slow_mode_changed":
      sql.exec("UPDATE room SET slow_mode_seconds = ?", event.data.seconds);
      return;
    case "message.posted":
      trackAction(sql, event);
      sql.exec(
        "INSERT INTO messages (id, author_id, author_name, text, at, reply_to, attachments) VALUES (?, ?, ?, ?, ?, ?, ?)",
        event.seq,
        event.actor.id,
        event.actor.name,
        event.data.text,
        event.at,
        event.data.replyTo ?? null,
        event.data.attachments ? JSON.stringify(event.data.attachments) : null,
      );
      return;
    case "message.edited":
      trackAction(sql, event);
      sql.exec(
        "UPDATE messages SET text = ?, edited_at = ? WHERE id = ?",
        event.data.text,
        event.at,
        event.data.messageId,
      );
      return;
    case "message.deleted":
      // Its reactions stay, hidden while it is deleted: an undo may restore it.
      trackAction(sql, event);
      sql.exec("UPDATE messages SET text = '', deleted = 1 WHERE id = ?", event.data.messageId);
      return;
    case "message.restored":
      trackAction(sql, event);
      sql.exec(
        "UPDATE messages SET text = ?, deleted = 0 WHERE id = ?",
        event.data.text,
        event.data.messageId,
      );
      return;
    case "message.redacted":
      sql.exec(
        "UPDATE messages SET text = '', redacted = 1, attachments = NULL WHERE id = ?",
        event.data.messageId,
      );
      return;
    case "message.transcribed":
      projectTranscript(sql, event.data);
      return;
    case "reaction.added":
      trackAction(sql, event);
      sql.exec(
        "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id, at) VALUES (?, ?, ?, ?)",
        event.data.messageId,
        event.data.emoji,
        event.actor.id,
        event.at,
      );
      return;
    case "reaction.removed":
      trackAction(sql, event);
      sql.exec(
        "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
        event.data.messageId,
        event.data.emoji,
        event.actor.id,
      );
      return;
    case "rule.saved":
    case "rule.deleted":
      trackAction(sql, event);
      projectRule(sql, event);
      return;
    case "plugin.enabled":
    case "plugin.disabled":
      sql.exec(
        "INSERT OR REPLACE INTO room_plugins (plugin, enabled, at) VALUES (?, ?, ?)",
        event.data.plugin,
        event.type === "plugin.enabled" ? 1 : 0,
        event.at,
      );
      return;
    default:
      unhandled(event);
  }
}

/**
 * A rule saved replaces the whole rule and keeps its place: `position` is the seq of the rule's
 * first event (found by the index events_rule; the event itself is stored already), so a rule
 * deleted and restored comes back where it was.
 */
function projectRule(sql: Sql, event: Extract<RoomEvent, { type: "rule.saved" | "rule.deleted" }>) {
  if (event.type === "rule.deleted") {
    sql.exec("DELETE FROM rules WHERE id = ?", event.data.ruleId);
    return;
  }
  const { rule } = event.data;
  sql.exec(
    `INSERT INTO rules (id, json, saved_by, saved_by_name, saved_at, position)
     VALUES (?, ?, ?, ?, ?,
       (SELECT min(seq) FROM events WHERE ${RULE_EVENTS_SQL} AND ${RULE_ID_SQL} = ?))
     ON CONFLICT (id) DO UPDATE SET json = excluded.json, saved_by = excluded.saved_by,
       saved_by_name = excluded.saved_by_name, saved_at = excluded.saved_at`,
    rule.id,
    JSON.stringify(rule),
    event.actor.id,
    event.actor.name,
    event.at,
    rule.id,
  );
}

/**
 * Each user's undo and redo stacks (undo.ts): an action of their own goes on top of the undo
 * stack and empties the redo stack; an undo marks its action undone (the top of the redo stack
 * is the latest marked), a redo unmarks it. Undo and redo are the user's own, so every row is
 * found by (user, seq): one B-tree (WITHOUT ROWID), one page written per post.
 */
function trackAction(sql: Sql, event: UndoableEvent): void {
  const undoes = "undoes" in event.data ? event.data.undoes : undefined;
  const redoes = "redoes" in event.data ? event.data.redoes : undefined;
  if (undoes !== undefined) {
    sql.exec(
      "UPDATE actions SET undone_at = ? WHERE user_id = ? AND seq = ?",
      event.seq,
      event.actor.id,
      undoes,
    );
  } else if (redoes !== undefined) {
    sql.exec(
      "UPDATE actions SET undone_at = NULL WHERE user_id = ? AND seq = ?",
      event.actor.id,
      redoes,
    );
  } else {
    sql.exec("DELETE FROM actions WHERE user_id = ? AND undone_at IS NOT NULL", event.actor.id);
    sql.exec("INSERT INTO actions (user_id, seq) VALUES (?, ?)", event.actor.id, event.seq);
  }
}

/** Adds or renames a member; `roleSql` is an SQL expression for the role, bound to `roleArg`. */
function addMember(
  sql: Sql,
  user: { id: string; name: string },
  at: number,
  roleSql: string,
  roleArg: string,
): void {
  sql.exec(
    `INSERT INTO members (user_id, name, joined_at, role) VALUES (?, ?, ?, ${roleSql})
     ON CONFLICT (user_id) DO UPDATE SET name = excluded.name`,
    user.id,
    user.name,
    at,
    roleArg,
  );
}

/** Empties every projection and replays the whole log into it: proof that the log is the truth. */
export function rebuildProjections(
  storage: DurableObjectStorage,
  readAll: () => Iterable<RoomEvent>,
): void {
  storage.transactionSync(() => {
    for (const table of PROJECTION_TABLES) storage.sql.exec(`DELETE FROM ${table}`);
    for (const event of readAll()) project(storage.sql, event);
  });
}

/** The transcript onto its attachment in the message's row: the row serves it to readers. */
function projectTranscript(sql: SqlStorage, data: TranscriptData): void {
  const row = sql
    .exec<{ attachments: string | null }>(
      "SELECT attachments FROM messages WHERE id = ?",
      data.messageId,
    )
    .toArray()[0];
  if (!row?.attachments) return;
  const attachments = withTranscript(JSON.parse(row.attachments) as MessageAttachment[], data);
  sql.exec(
    "UPDATE messages SET attachments = ? WHERE id = ?",
    JSON.stringify(attachments),
    data.messageId,
  );
}
