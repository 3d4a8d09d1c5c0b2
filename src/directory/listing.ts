import * as z from "zod";
import { RoomSort, type RoomInfo } from "../protocol/index.ts";

/**
 * The directory's paged listing (docs/directory.md), pure: which shard holds a room, the order
 * of each sort, the cursor, and the merge of the shards' pages.
 *
 * Activity and member counts change while someone pages through them, so a listing is ordered
 * by a snapshot of those figures: the first page picks the current minute's snapshot (each
 * shard takes it on first request), the cursor carries its minute, and every later page of the
 * same walk reads the same snapshot. No room moves between pages, so none is listed twice or
 * skipped; the figures shown are the live ones.
 */

/** Snapshots are taken once a minute ... */
export const SNAPSHOT_MS = 60_000;
/** ... and kept this many minutes: a walk may last that long before it must start again. */
export const SNAPSHOT_KEEP = 15;

export const snapshotOf = (now: number) => Math.floor(now / SNAPSHOT_MS);

/** The shard that holds `room`'s summary (FNV-1a of the name): stable for a given count. */
export function shardOfRoom(room: string, shards: number): number {
  let hash = 2166136261;
  for (let i = 0; i < room.length; i++) hash = Math.imul(hash ^ room.charCodeAt(i), 16777619);
  return (hash >>> 0) % shards;
}

export const directoryShardName = (index: number) => `directory-${index}`;

/**
 * A room's place in a sort: ascending keys (figures that sort high are negated), then its name.
 * These are the `ranks` table's columns for that sort, in order.
 */
export type Place = { keys: number[]; name: string };

export const SORT_COLUMNS = {
  activity: ["neg_online", "neg_last_seq"],
  newest: ["neg_created_at"],
  members: ["neg_members"],
} as const satisfies Record<RoomSort, readonly string[]>;

/** The place of `room` in `sort` (from its snapshot figures). */
export function placeOf(sort: RoomSort, room: RoomInfo): Place {
  switch (sort) {
    case "activity":
      return { keys: [-room.online, -room.lastSeq], name: room.name };
    case "newest":
      return { keys: [-room.createdAt], name: room.name };
    case "members":
      return { keys: [-room.members], name: room.name };
  }
}

export function comparePlaces(a: Place, b: Place): number {
  for (let i = 0; i < a.keys.length; i++) {
    const d = a.keys[i]! - b.keys[i]!;
    if (d !== 0) return d;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** What a cursor holds: the walk's snapshot, its sort and prefix, and the last place listed. */
const CursorData = z.object({
  v: z.literal(1),
  snapshot: z.number().int().nonnegative(),
  sort: RoomSort,
  prefix: z.string().max(64),
  after: z.object({ keys: z.array(z.number().int()).max(2), name: z.string().max(64) }),
});
export type Cursor = z.infer<typeof CursorData>;

export function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The cursor, or undefined for anything that is not one of ours. */
export function decodeCursor(text: string): Cursor | undefined {
  try {
    const json = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed = CursorData.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One shard's page: its rooms in order, each with its place in the snapshot. */
export type ShardPage = { rooms: { info: RoomInfo; place: Place }[] };

/**
 * Merges the shards' pages (each in order, each at most `limit + 1` long) into the first
 * `limit` rooms, and the place to continue after when there are more.
 */
export function mergePages(
  pages: readonly ShardPage[],
  limit: number,
): { rooms: RoomInfo[]; placed: ShardPage["rooms"]; last: Place | undefined } {
  const all = pages.flatMap((page) => page.rooms).sort((a, b) => comparePlaces(a.place, b.place));
  const taken = all.slice(0, limit);
  return {
    rooms: taken.map((row) => row.info),
    placed: taken,
    last: all.length > limit ? taken.at(-1)?.place : undefined,
  };
}
