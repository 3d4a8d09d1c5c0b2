import { roomConfig } from "../config.ts";
import type { RoomInfo, RoomSort } from "../protocol/index.ts";
import {
  directoryShardName,
  encodeCursor,
  mergePages,
  shardOfRoom,
  snapshotOf,
  type Cursor,
  type Place,
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

/**
 * A page of the listing: each room with the cursor that continues the walk after it (GraphQL's
 * edges), and the one after the page while there are more.
 */
export type RoomPage = { rooms: { info: RoomInfo; cursor: string }[]; nextCursor: string | null };

export type ListRequest = { limit: number; sort: RoomSort; prefix: string; cursor?: Cursor };

/**
 * One page of the public rooms, merged from every shard; undefined when the cursor's snapshot
 * has expired (the walk must start again).
 */
export async function listRooms(
  env: Env,
  request: ListRequest,
  now = Date.now(),
): Promise<RoomPage | undefined> {
  const { limit, sort, prefix, cursor } = request;
  const snapshot = cursor?.snapshot ?? snapshotOf(now);
  const pages = await Promise.all(
    everyShard(env).map((shard) =>
      shard.page({ snapshot, sort, prefix, after: cursor?.after, limit }),
    ),
  );
  if (pages.some((page) => page === undefined)) return undefined;
  const { placed, last } = mergePages(
    pages.map((page) => page!),
    limit,
  );
  const at = (after: Place) => encodeCursor({ v: 1, snapshot, sort, prefix, after });
  return {
    rooms: placed.map(({ info, place }) => ({ info, cursor: at(place) })),
    nextCursor: last ? at(last) : null,
  };
}

/** Every room's name, private ones too, busiest first in each shard: for the admin's views. */
export async function allRoomNames(env: Env, limit = 1000): Promise<string[]> {
  const lists = await Promise.all(everyShard(env).map((shard) => shard.listNames(limit)));
  return lists.flat().slice(0, limit);
}
