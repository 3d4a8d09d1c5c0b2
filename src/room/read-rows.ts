import type { EventType, Message, MessageAttachment, Role } from "../protocol/index.ts";

/**
 * The rows ReadModel (read-model.ts) reads from the projections, how a message row becomes the
 * contract's Message, and which events leave its memory of standings as it was.
 */

export type RoomRow = {
  name: string;
  topic: string;
  visibility: "public" | "private";
  created_at: number;
  created_by: string;
  owner_id: string;
  slow_mode_seconds: number;
  shards: number;
};
export type MessageRow = {
  id: number;
  author_id: string;
  author_name: string;
  text: string;
  at: number;
  edited_at: number | null;
  reply_to: number | null;
  deleted: number;
  redacted: number;
  /** JSON of MessageAttachment[] (project.ts), or NULL. */
  attachments: string | null;
};

export type RuleRow = {
  id: string;
  json: string;
  saved_by: string;
  saved_by_name: string;
  saved_at: number;
  position: number;
};

export type Standing = { role: Role | null; banned: number; until: number | null };

/**
 * Whether an event leaves the room's row and its members' standings (role, ban, mute) as they
 * were: messages and reactions do, and they are nearly all of a busy room's events, so those
 * stay in memory across commands. Any other event empties the memory.
 */
export const KEEPS_STANDINGS = {
  "room.created": false,
  "room.topic_changed": false,
  "room.slow_mode_changed": false,
  "room.ownership_transferred": false,
  "member.joined": false,
  "member.invited": false,
  "member.left": false,
  "member.kicked": false,
  "member.banned": false,
  "member.unbanned": false,
  "member.muted": false,
  "member.unmuted": false,
  "member.role_changed": false,
  "message.posted": true,
  "message.edited": true,
  "message.deleted": true,
  "message.restored": true,
  "message.redacted": true,
  "reaction.added": true,
  "reaction.removed": true,
  "rule.saved": true,
  "rule.deleted": true,
  "plugin.enabled": true,
  "plugin.disabled": true,
  "message.transcribed": true,
} as const satisfies Record<EventType, boolean>;

/** A message row as the contract serves it, its absent fields left out. */
export function toMessage(row: MessageRow, reactions: Record<string, string[]>): Message {
  const message: Message = {
    id: row.id,
    author: { id: row.author_id, name: row.author_name },
    text: row.text,
    at: row.at,
    reactions,
  };
  if (row.edited_at !== null) message.editedAt = row.edited_at;
  if (row.reply_to !== null) message.replyTo = row.reply_to;
  if (row.deleted === 1) message.deleted = true;
  if (row.redacted === 1) message.redacted = true;
  if (row.attachments !== null && row.deleted === 0 && row.redacted === 0)
    message.attachments = JSON.parse(row.attachments) as MessageAttachment[];
  return message;
}
