import { expect, it } from "vitest";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  flakyNetwork,
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

  // A connection lost in the network (no close frame either way): the server learns of it from
  // the runtime noticing the broken TCP connection, and says left; back again, joined.
  const network = await flakyNetwork(server);
  const c = await connect(network.url, room, cat);
  await waitUntil(() => a.presence.length === 3, "cat joined");
  expect(network.outage()).toBe(1);
  await waitUntil(() => a.presence.length === 4, "the server noticing that cat is gone");
  expect(a.presence[3]).toEqual({ type: "presence", left: { id: cat.user.id } });
  await waitUntil(async () => (await ada.api.getRoom(room)).online === 1, "only ada online");
  const lost = await waitUntil(() => c.sockets[0]!.closed, "cat's client to see the break");
  expect(lost).toEqual({ code: 1006, wasClean: false });
  network.restore();
  await c.welcomed(2);
  await waitUntil(() => a.presence.length === 5, "cat back");
  expect(a.presence[4]).toEqual({ type: "presence", joined: { id: cat.user.id, name: "cat" } });
  expect(c.welcomes[1]!.online.map((u) => u.id).sort()).toEqual([ada.user.id, cat.user.id].sort());
});

it("keeps presence right when a dropped client is back before the server noticed the drop", async () => {
  const room = await freshRoom(ada, "blip");
  const a = await connect(server.url, room, ada);
  const network = await flakyNetwork(server);
  const c = await connect(network.url, room, cat);
  await waitUntil(() => a.presence.length === 1, "cat joined");
  // The SDK reconnects within its backoff (50 ms at most here), maybe before the old socket is
  // gone on the server: whatever the order, cat must end up online once, and offline once gone.
  network.cut();
  await c.welcomed(2);
  expect(c.sockets[0]!.closed).toEqual({ code: 1006, wasClean: false });
  expect(c.welcomes[1]!.online.filter((u) => u.id === cat.user.id)).toHaveLength(1);
  // Presence about the new socket is sent before its welcome; what the old one's end causes,
  // if anything, comes before a later event if the server noticed it by then (else it says nothing).
  await barrier(c, [a]);
  const presence = a.presence.slice(1);
  // Either both halves of a left/joined pair, or neither (the server saw the new socket first).
  expect([0, 2]).toContain(presence.length);
  if (presence.length === 2)
    expect(presence).toEqual([
      { type: "presence", left: { id: cat.user.id } },
      { type: "presence", joined: { id: cat.user.id, name: "cat" } },
    ]);
  // The dead socket is not kept: closing the live one is cat's last, and says left.
  const before = a.presence.length;
  c.close();
  await waitUntil(() => a.presence.length > before, "cat left");
  expect(a.presence.slice(before)).toEqual([{ type: "presence", left: { id: cat.user.id } }]);
  await waitUntil(async () => (await ada.api.getRoom(room)).online === 1, "only ada online");
});

it("relays typing to the others, not to the typist, at most once per 2 s", async () => {
  const room = await freshRoom(ada, "typing");
  const a = await connect(server.url, room, ada);
  const b = await connect(server.url, room, bob);
  const c = await connect(server.url, room, cat);

  // Taken before the send: the room relays it later, so the 2 s are counted from no earlier.
  const firstAt = Date.now();
  b.conn.typing();
  await waitUntil(() => a.typing.length === 1 && c.typing.length === 1, "typing relayed");
  expect(a.typing[0]).toEqual({ id: bob.user.id, name: "bob" });

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
  // Not before 2 s (1 ms for clocks that round), and more notices were sent than relayed.
  expect(secondAt - firstAt).toBeGreaterThanOrEqual(1_999);
  expect(sent).toBeGreaterThan(2);
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
