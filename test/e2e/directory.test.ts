/**
 * The room directory, paged (docs/directory.md): every sort walks each public room exactly once
 * while rooms are created and their figures change between pages; the prefix filter; cursors
 * that belong to another walk or to nothing are refused.
 */
import { expect, it } from "vitest";
import { ApiError, type RoomInfo, type RoomSort } from "../../src/protocol/index.ts";
import {
  connect,
  freshRoom,
  range,
  signIn,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;

// Several shards, so that every page is a merge.
useServer(
  async (started) => {
    server = started;
    [ada, bob] = await signIn(server, "ada", "bob");
  },
  { vars: { DIRECTORY_SHARDS: "4" } },
);

/** Every page of one walk, with `between` run after each page but the last. */
async function walk(
  who: Guest,
  options: { sort?: RoomSort; prefix?: string; limit: number },
  between: (page: number) => Promise<void> = async () => undefined,
): Promise<RoomInfo[]> {
  const rooms: RoomInfo[] = [];
  let page = await who.api.listRooms(options);
  for (let n = 1; ; n++) {
    rooms.push(...page.rooms);
    if (!page.nextCursor) return rooms;
    await between(n);
    page = await who.api.listRooms({ cursor: page.nextCursor, limit: options.limit });
  }
}

it("walks every public room once in each sort while rooms are created and change between pages", async () => {
  const tag = `dir${Date.now().toString(36)}`;
  const names = await Promise.all(range(1, 40).map(() => freshRoom(ada, tag)));
  // Summaries reach the directory after each room's commit: wait until all are listed.
  await waitUntil(
    async () => (await walk(ada, { prefix: tag, limit: 200 })).length === names.length,
    "every room in the directory",
  );
  const created: string[] = [];
  for (const sort of ["activity", "newest", "members"] as const) {
    const listed = await walk(bob, { sort, prefix: tag, limit: 7 }, async (page) => {
      // Between pages: posts and members move rooms up and down the order, new rooms appear.
      const busy = names[(page * 7) % names.length]!;
      await bob.api.postMessage(busy, { text: `page ${page}`, clientId: `${sort}-${page}` });
      const client = await connect(server.url, names[(page * 11) % names.length]!, bob);
      client.close();
      created.push(await freshRoom(ada, tag));
    });
    const seen = listed.map((room) => room.name);
    expect(new Set(seen).size, `${sort}: a room listed twice`).toBe(seen.length);
    for (const name of names) expect(seen, `${sort}: ${name} skipped`).toContain(name);
    // A room created during a walk may or may not be listed, never twice (checked above).
    expect(seen.every((name) => names.includes(name) || created.includes(name))).toBe(true);
  }
});

it("lists only the rooms whose name starts with the prefix", async () => {
  const tag = `pfx${Date.now().toString(36)}`;
  const wanted = await Promise.all(range(1, 5).map(() => freshRoom(ada, `${tag}-a`)));
  const others = await Promise.all(range(1, 3).map(() => freshRoom(ada, `${tag}-b`)));
  await waitUntil(
    async () => (await walk(bob, { prefix: tag, limit: 50 })).length === 8,
    "all of them listed",
  );
  const listed = (await walk(bob, { prefix: `${tag}-a`, limit: 2 })).map((room) => room.name);
  expect(listed.sort()).toEqual(wanted.sort());
  expect(listed).not.toContain(others[0]);
  expect((await bob.api.listRooms({ prefix: `${tag}-c` })).rooms).toEqual([]);
});

it("refuses a cursor that is not one, or that belongs to another sort or prefix", async () => {
  await freshRoom(ada, "cur");
  await freshRoom(ada, "cur");
  const first = await waitUntil(async () => {
    const page = await ada.api.listRooms({ limit: 1 });
    return page.nextCursor ? page : undefined;
  }, "a second page");
  const refusal = async (query: Parameters<Guest["api"]["listRooms"]>[0]) => {
    const error = await ada.api.listRooms(query).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "bad_request", status: 400 });
  };
  await refusal({ cursor: "not-a-cursor" });
  await refusal({ cursor: first.nextCursor!, sort: "newest" });
  await refusal({ cursor: first.nextCursor!, prefix: "zzz" });
  await refusal({ limit: 0 });
  await refusal({ prefix: "UPPER" });
});
