import { expect, it } from "vitest";
import { BATCH_SUBPROTOCOL, type ServerFrameOf } from "../../src/protocol/index.ts";
import {
  connect,
  freshRoom,
  range,
  rawConnect,
  signIn,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let guests: Guest[];

useServer(async (started) => {
  server = started;
  [ada, ...guests] = await signIn(server, "ada", "bob", "cat", "dan", "eve", "fay");
});

it("commands that arrive together are written together: each its own seq, ack and key, in order", async () => {
  const room = await freshRoom(ada, "group");
  const observer = await rawConnect(server.url, room, ada.token, undefined, BATCH_SUBPROTOCOL);
  const plain = await rawConnect(server.url, room, ada.token);
  const senders = await Promise.all(
    guests.map((who) => rawConnect(server.url, room, who.token, undefined, BATCH_SUBPROTOCOL)),
  );
  // Every sender fires 10 posts without waiting: most arrive while a commit is on its way.
  for (const [s, sender] of senders.entries())
    for (const i of range(1, 10))
      sender.sendJson({ type: "post", clientId: `g${s}-${i}`, text: `g${s}-${i}` });
  await Promise.all(senders.map((sender) => sender.nth("ack", 10)));

  const acked = senders.flatMap((sender, s) =>
    sender.of("ack").map((ack) => ({ text: `g${s}-${ack.clientId.split("-")[1]}`, ack })),
  );
  const seqs = acked.map(({ ack }) => ack.seq);
  expect(new Set(seqs).size).toBe(50);
  // Each command is in the log once, under the seq its ack named.
  const { events } = await ada.api.events(room, 0, 1000);
  const posts = events.filter((e) => e.type === "message.posted");
  expect(posts).toHaveLength(50);
  for (const { text, ack } of acked)
    expect(posts.find((e) => e.seq === ack.seq)?.data).toMatchObject({ text });
  // A sender's own commands keep their order.
  for (const sender of senders) {
    const own = sender.of("ack").map((ack) => Number(ack.clientId.split("-")[1]));
    expect(own).toEqual(range(1, 10));
    expect(sender.of("ack").map((ack) => ack.seq)).toEqual(
      [...sender.of("ack").map((ack) => ack.seq)].sort((a, b) => a - b),
    );
  }
  // Resending a key answers with its original seq.
  const again = await ada.api.command(room, { type: "post", clientId: "g0-1", text: "g0-1" });
  expect(again.seq).not.toBe(acked[0]!.ack.seq); // another user's key space
  const resent = await guests[0]!.api.command(room, { type: "post", clientId: "g0-1", text: "x" });
  expect(resent.seq).toBe(acked.find(({ text }) => text === "g0-1")!.ack.seq);

  // The batch observer got every event, in order, in fewer messages than events.
  const last = Math.max(...seqs);
  await waitUntil(
    () => observer.of("event").at(-1)?.event.seq === last + 1,
    "the observer at the end",
  );
  const seen = observer.of("event").map((f) => f.event.seq);
  expect(seen).toEqual(range(seen[0]!, last + 1));
  expect(observer.messages.length).toBeLessThan(observer.frames.length);
  // A client that did not ask for batches gets one frame per event, the same events.
  await waitUntil(
    () => plain.of("event").at(-1)?.event.seq === last + 1,
    "the v1 client at the end",
  );
  expect(plain.messages.some((m) => m.type === "batch")).toBe(false);
  expect(plain.of("event").map((f) => f.event.seq)).toEqual(seen);
});

it("the sender's ack and its own event leave in one frame on edgechat.v1.batch", async () => {
  const room = await freshRoom(ada, "pair");
  const me = await rawConnect(server.url, room, ada.token, undefined, BATCH_SUBPROTOCOL);
  const before = me.messages.length;
  me.sendJson({ type: "post", clientId: "one", text: "together" });
  await me.nth("ack", 1);
  const batch = me.messages.slice(before).find((m) => m.type === "batch") as
    ServerFrameOf<"batch"> | undefined;
  expect(batch?.frames.map((f) => f.type)).toEqual(["ack", "event"]);
});

it("the SDK reads batches as single frames: every event once, in order", async () => {
  const room = await freshRoom(ada, "sdk");
  const reader = await connect(server.url, room, ada);
  const writers = await Promise.all(
    guests.slice(0, 3).map((who) => connect(server.url, room, who)),
  );
  const seqs = await Promise.all(
    writers.flatMap((w, i) => range(1, 15).map((n) => w.conn.post(`w${i}-${n}`))),
  );
  const last = Math.max(...seqs);
  await reader.untilSeq(last);
  expect(reader.sockets[0]!.protocol).toBe(BATCH_SUBPROTOCOL);
  expect(reader.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  expect(reader.messages().map((e) => e.seq)).toEqual([...seqs].sort((a, b) => a - b));
  expect(reader.sockets[0]!.messages).toBeLessThan(reader.sockets[0]!.frames.length);
});
