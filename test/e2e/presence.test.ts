import { expect, it } from "vitest";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  guest,
  rawConnect,
  startServer,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let cat: Guest;

useServer(async (started) => {
  server = started;
  [ada, bob, cat] = await signIn(server, "ada", "bob", "cat");
});

/**
 * A barrier: `via` posts and every client in `until` receives that event. Frames on one socket are
 * ordered, so whatever the server broadcast before the post has arrived by then.
 */
async function barrier(via: Client, until: Client[]): Promise<void> {
  const seq = await via.conn.post(`barrier ${Date.now()}`);
  await Promise.all(until.map((c) => c.untilSeq(seq)));
}

it("tells who is online in the welcome and announces first and last connections only", async () => {
  const room = await freshRoom(ada, "presence");
  const a = await connect(server.url, room, ada);
  expect(a.welcomes[0]!.online).toEqual([{ id: ada.user.id, name: "ada" }]);
  expect(a.welcomes[0]!.you).toEqual({ id: ada.user.id, name: "ada" });

  const b1 = await connect(server.url, room, bob);
  expect(b1.welcomes[0]!.online.map((u) => u.id).sort()).toEqual([ada.user.id, bob.user.id].sort());
  await waitUntil(() => a.presence.length === 1, "bob joined");
  expect(a.presence[0]).toEqual({ type: "presence", joined: { id: bob.user.id, name: "bob" } });

  // bob's second tab: no new presence for others; its welcome lists bob once.
  const b2 = await connect(server.url, room, bob);
  expect(b2.welcomes[0]!.online.filter((u) => u.id === bob.user.id)).toHaveLength(1);
  await barrier(b2, [a, b1]);
  expect(a.presence).toHaveLength(1);
  // The joiner itself is not told that it joined.
  expect(b1.presence).toEqual([]);

  // Closing one of two tabs: still online.
  b1.close();
  await barrier(b2, [a]);
  expect(a.presence).toHaveLength(1);
  expect((await ada.api.getRoom(room)).online).toBe(2);

  // Closing the last: left.
  b2.close();
  await waitUntil(() => a.presence.length === 2, "bob left");
  expect(a.presence[1]).toEqual({ type: "presence", left: { id: bob.user.id } });

  // A dropped connection (no clean close) also ends in left, and back again in joined.
  const c = await connect(server.url, room, cat);
  await waitUntil(() => a.presence.length === 3, "cat joined");
  c.conn.dropForTest();
  await waitUntil(() => a.presence.length >= 5, "cat left and came back");
  expect(a.presence.slice(3)).toEqual([
    { type: "presence", left: { id: cat.user.id } },
    { type: "presence", joined: { id: cat.user.id, name: "cat" } },
  ]);
  await c.welcomed(2);
  expect(c.welcomes[1]!.online.map((u) => u.id).sort()).toEqual([ada.user.id, cat.user.id].sort());
});

it("relays typing to the others, not to the typist, at most once per 2 s", async () => {
  const room = await freshRoom(ada, "typing");
  const a = await connect(server.url, room, ada);
  const b = await connect(server.url, room, bob);
  const c = await connect(server.url, room, cat);

  b.conn.typing();
  await waitUntil(() => a.typing.length === 1 && c.typing.length === 1, "typing relayed");
  expect(a.typing[0]).toEqual({ id: bob.user.id, name: "bob" });
  const firstAt = Date.now();

  // Typing every 100 ms: the others get the next notice only ~2 s after the first.
  let sent = 1;
  await waitUntil(
    () => {
      if (a.typing.length >= 2) return true;
      b.conn.typing();
      sent += 1;
      return false;
    },
    "second typing notice",
    6_000,
    100,
  );
  const secondAt = Date.now();
  expect(secondAt - firstAt).toBeGreaterThanOrEqual(1_800);
  expect(sent).toBeGreaterThanOrEqual(10);
  await barrier(b, [a, b, c]);
  expect(a.typing).toHaveLength(2);
  expect(c.typing).toHaveLength(2);
  expect(b.typing).toEqual([]);
  // Typing is not an event.
  expect(
    (await ada.api.events(room, 0, 1000)).events.some((e) => (e.type as string).includes("typing")),
  ).toBe(false);

  // The throttle is per user: cat may type right away.
  c.conn.typing();
  await waitUntil(() => a.typing.length === 3, "cat's typing");
  expect(a.typing[2]).toEqual({ id: cat.user.id, name: "cat" });
});

it("answers ping with pong and keeps the read marker for the next welcome", async () => {
  const room = await freshRoom(ada, "read");
  const raw = await rawConnect(server.url, room, bob.token);
  await raw.roundTrip();
  const seq = (await ada.api.postMessage(room, { text: "read me", clientId: "r1" })).seq;
  raw.sendJson({ type: "read", seq });
  await raw.roundTrip();
  expect(raw.of("error")).toEqual([]);
  const again = await connect(server.url, room, bob);
  expect(again.welcomes[0]!.readSeq).toBe(seq);
  // A marker never moves back, and never beyond the log.
  again.conn.read(1);
  again.conn.read(seq + 1000);
  await barrier(again, [again]);
  const third = await connect(server.url, room, bob);
  expect(third.welcomes[0]!.readSeq).toBe(third.welcomes[0]!.lastSeq - 1);
});
