import type { Role, RoomEvent, Visibility } from "../protocol/index.ts";
import type { Roster } from "./history.ts";

/**
 * A snapshot of the roster every this many events (docs/audit.md, "Time travel"): the state of
 * the room at any seq is the snapshot at or before it plus fewer than this many non-message
 * events folded in. 1000 keeps a room of 100,000 events at 100 small rows.
 */
export const SNAPSHOT_EVERY = 1000;

/**
 * Writes the roster as the projections hold it right after `event`, when `event` is due a
 * snapshot. Called by project.ts after each event, so the live append (in its transaction) and
 * `rebuildProjections` write the same snapshots.
 */
export function snapshotIfDue(sql: SqlStorage, event: RoomEvent): void {
  if (event.seq % SNAPSHOT_EVERY !== 0) return;
  sql.exec(
    "INSERT OR REPLACE INTO snapshots (seq, at, state) VALUES (?, ?, ?)",
    event.seq,
    event.at,
    JSON.stringify(rosterOfTables(sql)),
  );
}

/** The newest snapshot at or before `seq`, if any. */
export function snapshotAtOrBefore(
  sql: SqlStorage,
  seq: number,
): { seq: number; roster: Roster } | undefined {
  const row = sql
    .exec<{ seq: number; state: string }>(
      "SELECT seq, state FROM snapshots WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
      seq,
    )
    .toArray()[0];
  return row && { seq: row.seq, roster: JSON.parse(row.state) as Roster };
}

type RoomTable = {
  name: string;
  topic: string;
  visibility: Visibility;
  slow_mode_seconds: number;
  owner_id: string;
  created_at: number;
  created_by: string;
  shards: number;
};

/** The roster as the projection tables hold it now (in a stable order, for equal snapshots). */
export function rosterOfTables(sql: SqlStorage): Roster {
  const room = sql.exec<RoomTable>("SELECT * FROM room").toArray()[0];
  const roster: Roster = {
    room: room
      ? {
          name: room.name,
          topic: room.topic,
          visibility: room.visibility,
          slowModeSeconds: room.slow_mode_seconds,
          ownerId: room.owner_id,
          createdAt: room.created_at,
          createdBy: room.created_by,
          shards: room.shards,
        }
      : null,
    members: {},
    bans: {},
    mutes: {},
  };
  const members = sql.exec<{ user_id: string; name: string; role: Role; joined_at: number }>(
    "SELECT user_id, name, role, joined_at FROM members ORDER BY user_id",
  );
  for (const m of members)
    roster.members[m.user_id] = { name: m.name, role: m.role, joinedAt: m.joined_at };
  const bans = sql.exec<{ user_id: string; at: number; name: string | null }>(
    "SELECT user_id, at, name FROM bans ORDER BY user_id",
  );
  for (const b of bans)
    roster.bans[b.user_id] = { at: b.at, ...(b.name !== null ? { name: b.name } : {}) };
  const mutes = sql.exec<{ user_id: string; until: number }>(
    "SELECT user_id, until FROM mutes ORDER BY user_id",
  );
  for (const m of mutes) roster.mutes[m.user_id] = m.until;
  return roster;
}
