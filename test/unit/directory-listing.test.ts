import { describe, expect, it } from "vitest";
import type { RoomInfo } from "../../src/protocol/index.ts";
import {
  comparePlaces,
  decodeCursor,
  encodeCursor,
  mergePages,
  placeOf,
  shardOfRoom,
  type ShardPage,
} from "../../src/directory/listing.ts";
import {
  emptyDirectory,
  loading,
  newWalk,
  pageArrived,
  pageFailed,
  wantsPage,
} from "../../src/web/directory-state.ts";

const room = (name: string, online: number, lastSeq: number, members = 1): RoomInfo => ({
  name,
  topic: "",
  visibility: "public",
  createdAt: lastSeq * 10,
  lastSeq,
  members,
  online,
});

/** A shard's page as a Directory shard returns it: in order, each room with its place. */
const shardPage = (...rooms: RoomInfo[]): ShardPage => ({
  rooms: rooms
    .map((info) => ({ info, place: placeOf("activity", info) }))
    .sort((a, b) => comparePlaces(a.place, b.place)),
});

describe("the directory's listing", () => {
  it("spreads rooms over the shards by a stable hash of the name", () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOfRoom(`room-${i}`, 8)]! += 1;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(shardOfRoom("lobby", 8)).toBe(shardOfRoom("lobby", 8));
    expect(shardOfRoom("lobby", 1)).toBe(0);
  });

  it("orders busiest first: online, then events, then the name", () => {
    const places = [room("b", 2, 5), room("a", 2, 5), room("c", 3, 1), room("d", 2, 9)].map((r) =>
      placeOf("activity", r),
    );
    expect(places.sort(comparePlaces).map((p) => p.name)).toEqual(["c", "d", "a", "b"]);
    expect(
      comparePlaces(placeOf("newest", room("x", 0, 2)), placeOf("newest", room("y", 0, 1))),
    ).toBeLessThan(0);
    expect(
      comparePlaces(placeOf("members", room("x", 0, 0, 3)), placeOf("members", room("y", 0, 0, 9))),
    ).toBeGreaterThan(0);
  });

  it("merges the shards' pages into one page and says where the next starts", () => {
    const pages = [
      shardPage(room("a", 5, 1), room("c", 1, 1), room("e", 0, 1)),
      shardPage(room("b", 3, 1), room("d", 0, 9)),
    ];
    const first = mergePages(pages, 3);
    expect(first.rooms.map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(first.last).toEqual(placeOf("activity", room("c", 1, 1)));
    const all = mergePages(pages, 10);
    expect(all.rooms.map((r) => r.name)).toEqual(["a", "b", "c", "d", "e"]);
    expect(all.last).toBeUndefined();
  });

  it("round-trips a cursor and refuses anything else", () => {
    const cursor = {
      v: 1 as const,
      snapshot: 29_000_000,
      sort: "members" as const,
      prefix: "dev",
      after: { keys: [-4], name: "dev-x" },
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(encodeCursor(cursor)).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const bad of ["", "nope", btoa("{}"), btoa(JSON.stringify({ ...cursor, sort: "x" }))])
      expect(decodeCursor(bad)).toBeUndefined();
  });
});

describe("the room list's state", () => {
  const page = (names: string[], nextCursor: string | null) => ({
    rooms: names.map((n) => room(n, 0, 0)),
    nextCursor,
  });

  it("appends pages of its walk, stops at the end, and drops a late page of an older walk", () => {
    let state = newWalk(emptyDirectory, "activity", "");
    const first = state.walk;
    expect(wantsPage(state)).toBe(true);
    state = loading(state);
    expect(wantsPage(state)).toBe(false);
    state = pageArrived(state, first, page(["a", "b"], "c1"));
    state = pageArrived(loading(state), first, page(["b", "c"], null));
    expect(state.rooms.map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(wantsPage(state)).toBe(false);
    const filtered = newWalk(state, "activity", "x");
    // What was shown stays until the new walk's first page replaces it.
    expect(filtered.rooms.map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(pageArrived(filtered, first, page(["old"], null))).toBe(filtered);
    const replaced = pageArrived(loading(filtered), filtered.walk, page(["x1"], "c2"));
    expect(replaced.rooms.map((r) => r.name)).toEqual(["x1"]);
    expect(pageFailed(loading(filtered), filtered.walk)).toMatchObject({
      loading: false,
      cursor: undefined,
    });
  });
});
