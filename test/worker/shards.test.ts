import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { shardOf } from "../../src/room/shard-index.ts";
import { Client, guest, newRoom, roomStub } from "./helpers.ts";

const SHARDS = 4;

/** The sockets each shard of `room` holds, and the room itself. */
async function placement(room: string) {
  const count = (state: DurableObjectState) => state.getWebSockets().length;
  const onShards = await Promise.all(
    Array.from({ length: SHARDS }, (_, i) =>
      runInDurableObject(env.ROOM_SHARD.getByName(`${room}/shard-${i}`), (_o, state) =>
        count(state),
      ),
    ),
  );
  const onRoom = await runInDurableObject(roomStub(room), (_o, state) => count(state));
  return { onShards, onRoom };
}

it("a sharded room keeps no sockets itself: each user's lives on the shard their id picks", async () => {
  const owner = await guest("owner");
  const room = await newRoom(owner, "sharded", SHARDS);
  const people = await Promise.all(["amy", "ben", "cal", "dot", "eli", "fin"].map((n) => guest(n)));
  const clients = await Promise.all(people.map((who) => Client.open(room, who)));
  const expected = Array.from({ length: SHARDS }, () => 0);
  for (const who of people) expected[shardOf(who.user.id, SHARDS)]! += 1;
  expect(await placement(room)).toEqual({ onShards: expected, onRoom: 0 });
  // Who is online is known to the room all the same, across shards.
  const info = await roomStub(room).info(owner.user);
  expect(info.ok && info.value).toMatchObject({ shards: SHARDS, online: people.length });
  for (const client of clients) client.close();
});
