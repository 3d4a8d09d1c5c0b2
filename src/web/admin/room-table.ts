import type { AdminRoom } from "../../client/index.ts";

export const ROOM_SORTS = ["activity", "sockets", "name"] as const;
export type RoomSortKey = (typeof ROOM_SORTS)[number];

/**
 * The rooms the Rooms section lists: those whose name starts with `prefix` (room names are
 * lower-case; the prefix is read so), sorted by activity (events in the last five minutes,
 * then sockets, then the latest activity), by sockets open (then activity), or by name.
 * Ties fall back to the name, so that the order is total and a refresh does not shuffle rows.
 */
export function shownRooms(
  rooms: readonly AdminRoom[],
  prefix: string,
  sort: RoomSortKey,
): AdminRoom[] {
  const start = prefix.trim().toLowerCase().replace(/^#/, "");
  const byName = (a: AdminRoom, b: AdminRoom) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const latest = (a: AdminRoom, b: AdminRoom) => (b.lastActiveAt ?? -1) - (a.lastActiveAt ?? -1);
  const order: Record<RoomSortKey, (a: AdminRoom, b: AdminRoom) => number> = {
    activity: (a, b) =>
      b.recentEvents - a.recentEvents ||
      b.socketsOpen - a.socketsOpen ||
      latest(a, b) ||
      byName(a, b),
    sockets: (a, b) =>
      b.socketsOpen - a.socketsOpen || b.recentEvents - a.recentEvents || byName(a, b),
    name: byName,
  };
  return rooms.filter((room) => room.name.startsWith(start)).sort(order[sort]);
}
