import { roomConfig } from "../config.ts";
import type { RoomInfo, RoomSort } from "../protocol/index.ts";
import {
  directoryShardName,
  encodeCursor,
  mergePages,
  shardOfRoom,
  snapshotOf,
  type Cursor,
} from "./listing.ts";

/** The directory shard that holds `room`'s summary. */
export function directoryFor(env: Env, room: string) {
  const shards = roomConfig(env).DIRECTORY_SHARDS;
  return env.DIRECTORY.getByName(directoryShardName(shardOfRoom(room, shards)));
}

function everyShard(env: Env) {
  const shards = roomConfig(env).DIRECTORY_SHARDS;
  return Array.from({ length: shards }, (_, i) => env.DIRECTORY.getByName(directoryShardName(i)));
}

export type ListRequest = { limit: number; sort: RoomSort; prefix: string; cursor?: Cursor };

/**
 * One page of the public rooms, merged from every shard; undefined when the cursor's snapshot
 * has expired (the walk must start again).
 */
export async function listRooms(
  env: Env,
  request: ListRequest,
  now = Date.now(),
): Promise<{ rooms: RoomInfo[]; nextCursor: string | null } | undefined> {
  const { limit, sort, prefix, cursor } = request;
  const snapshot = cursor?.snapshot ?? snapshotOf(now);
  const pages = await Promise.all(
    everyShard(env).map((shard) =>
      shard.page({ snapshot, sort, prefix, after: cursor?.after, limit }),
    ),
  );
  if (pages.some((page) => page === undefined)) return undefined;
  const { rooms, last } = mergePages(
    pages.map((page) => page!),
    limit,
  );
  const nextCursor = last ? encodeCursor({ v: 1, snapshot, sort, prefix, after: last }) : null;
  return { rooms, nextCursor };
}

/** Every room's name, private ones too, busiest first in each shard: for the admin's views. */
export async function allRoomNames(env: Env, limit = 1000): Promise<string[]> {
  const lists = await Promise.all(everyShard(env).map((shard) => shard.listNames(limit)));
  return lists.flat().slice(0, limit);
}
