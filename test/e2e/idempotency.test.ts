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
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;

useServer(async (started) => {
  server = started;
  [ada] = await signIn(server, "ada");
});

/** The events of `room` whose text is `text`. */
async function postedWith(who: Guest, room: string, text: string) {
  const page = await who.api.events(room, 0, 1000);
  return page.events.filter((e) => e.type === "message.posted" && e.data.text === text);
}

it("acks a repeated command once with its original seq: same connection, new connection, HTTP", async () => {
  const room = await freshRoom(ada, "idem");
  const one = await connect(server.url, room, ada);
  const command = { type: "post" as const, clientId: "same-1", text: "only once" };
  const seq = await one.conn.send(command);
  expect(await one.conn.send(command)).toBe(seq);
  // Same clientId with other content: still the first outcome.
  expect(await one.conn.send({ ...command, text: "changed" })).toBe(seq);

  const two = await connect(server.url, room, ada);
  expect(await two.conn.send(command)).toBe(seq);
  expect((await ada.api.postMessage(room, { text: "only once", clientId: "same-1" })).seq).toBe(
    seq,
  );

  // The other way round: first over HTTP, then over the socket.
  const viaHttp = await ada.api.postMessage(room, { text: "http first", clientId: "same-2" });
  expect(await one.conn.send({ type: "post", clientId: "same-2", text: "http first" })).toBe(
    viaHttp.seq,
  );

  expect(await postedWith(ada, room, "only once")).toHaveLength(1);
  expect(await postedWith(ada, room, "changed")).toHaveLength(0);
  expect(await postedWith(ada, room, "http first")).toHaveLength(1);
  // Nobody saw a second event.
  const last = (await ada.api.getRoom(room)).lastSeq;
  await Promise.all([one.untilSeq(last), two.untilSeq(last)]);
  expect(one.events.filter((e) => e.seq === seq)).toHaveLength(1);
  expect(one.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });

  // Another user's identical clientId is another command.
  const bob = await guest(server.url, "bob");
  const bobs = await connect(server.url, room, bob);
  expect(await bobs.conn.send(command)).toBeGreaterThan(seq);
});

it("acks back-to-back duplicates on a raw socket twice with one seq and broadcasts one event", async () => {
  const room = await freshRoom(ada, "raw-idem");
  const bob = await guest(server.url, "bob");
  const watcher = await connect(server.url, room, bob);
  const raw = await rawConnect(server.url, room, ada.token);
  const frame = { type: "post", clientId: "dup", text: "twice sent" };
  raw.sendJson(frame);
  raw.sendJson(frame);
  raw.sendJson(frame);
  await raw.nth("ack", 3);
  const acks = raw.of("ack");
  expect(new Set(acks.map((a) => a.seq)).size).toBe(1);
  expect(acks.every((a) => a.clientId === "dup")).toBe(true);
  await raw.roundTrip();
  expect(raw.of("event").filter((f) => f.event.type === "message.posted")).toHaveLength(1);
  await watcher.untilSeq(acks[0]!.seq);
  expect(watcher.messages()).toHaveLength(1);

  // Edits, reactions and deletes are idempotent too.
  const id = acks[0]!.seq;
  for (const command of [
    { type: "edit", clientId: "e1", messageId: id, text: "edited" },
    { type: "react", clientId: "r1", messageId: id, emoji: "🎉", on: true },
    { type: "react", clientId: "r2", messageId: id, emoji: "🎉", on: false },
    { type: "delete", clientId: "d1", messageId: id },
  ]) {
    raw.sendJson(command);
    raw.sendJson(command);
  }
  await raw.nth("ack", 3 + 8);
  const later = raw.of("ack").slice(3);
  for (let i = 0; i < 8; i += 2) expect(later[i + 1]).toEqual(later[i]);
  await raw.roundTrip();
  const types = raw.of("event").map((f) => f.event.type);
  expect(types.filter((t) => t !== "message.posted")).toEqual([
    "message.edited",
    "reaction.added",
    "reaction.removed",
    "message.deleted",
  ]);
  // A replayed delete after the message is gone is acked, not refused.
  raw.sendJson({ type: "delete", clientId: "d1", messageId: id });
  expect((await raw.nth("ack", 12)).seq).toBe(later[6]!.seq);
  expect(raw.of("error")).toEqual([]);
});

it("resends a command whose ack was lost in a network drop, and it is applied once", async () => {
  const room = await freshRoom(ada, "outbox");
  const bob = await guest(server.url, "bob");
  // The watcher first, so that nothing but answers to its posts travels to the writer.
  const watcher = await connect(server.url, room, bob);
  const network = await flakyNetwork(server);
  const writer = await connect(network.url, room, ada);
  const texts: string[] = [];
  const seqs: number[] = [];
  for (let i = 0; i < 10; i++) {
    await waitUntil(() => writer.conn.status === "open", "writer open");
    const text = `lost ack ${i}`;
    texts.push(text);
    // The server stores the post and answers; the answer (ack, event) dies with the connection.
    const cut = network.cutOnReply();
    const acked = writer.conn.post(text);
    await cut;
    expect(writer.conn.pendingCommands).toBe(1);
    seqs.push(await acked);
    expect(writer.conn.pendingCommands).toBe(0);
  }
  // Every post was in the log before the resend went out (the next socket's welcome counts it),
  // so the resend was answered from the idempotency key with the original seq.
  expect(new Set(seqs).size).toBe(10);
  seqs.forEach((seq, i) =>
    expect(writer.sockets[i + 1]!.frames[0]).toMatchObject({
      type: "welcome",
      lastSeq: expect.toSatisfy((last: number) => last >= seq),
    }),
  );
  await watcher.untilSeq(Math.max(...seqs));
  const posted = watcher.messages();
  expect(posted.map((e) => (e.data as { text: string }).text)).toEqual(texts);
  expect(posted.map((e) => e.seq)).toEqual(seqs);
  expect(watcher.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  for (const text of texts) expect(await postedWith(ada, room, text)).toHaveLength(1);
  // The writer got each event once, by the replay after its reconnect.
  await writer.untilSeq(Math.max(...seqs));
  expect(writer.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  for (const socket of writer.sockets.slice(0, 10))
    expect(socket.closed).toEqual({ code: 1006, wasClean: false });
});

it("resends a command that a network drop kept from the server, and it is applied once", async () => {
  const room = await freshRoom(ada, "unsent");
  const network = await flakyNetwork(server);
  const writer = await connect(network.url, room, ada);
  // Cut in the same turn as the send: the frame is still in the relay's buffers, never forwarded.
  const first = writer.conn.post("never arrived");
  expect(network.cut()).toBe(1);
  const seq = await first;
  expect(await postedWith(ada, room, "never arrived")).toEqual([expect.objectContaining({ seq })]);
  // Stored only by the resend, after the new socket's welcome.
  expect(writer.sockets[1]!.frames[0]).toMatchObject({ type: "welcome", lastSeq: seq - 1 });

  // A command issued while reconnecting waits in the outbox and goes out after the welcome.
  await waitUntil(() => writer.conn.status === "open", "writer open");
  network.outage();
  await waitUntil(() => writer.conn.status === "reconnecting", "writer notices the outage");
  const queued = writer.conn.post("while away");
  expect(writer.conn.pendingCommands).toBe(1);
  network.restore();
  const queuedSeq = await queued;
  expect(await postedWith(ada, room, "while away")).toEqual([
    expect.objectContaining({ seq: queuedSeq }),
  ]);
});

it("rejects pending commands when the connection is closed for good", async () => {
  const room = await freshRoom(ada, "closed");
  const network = await flakyNetwork(server);
  const writer = await connect(network.url, room, ada);
  network.outage();
  await waitUntil(() => writer.conn.status === "reconnecting", "writer notices the outage");
  const pending = writer.conn.post("never");
  writer.conn.close();
  await expect(pending).rejects.toMatchObject({ name: "CommandError", code: "closed" });
  network.restore();
  expect(await postedWith(ada, room, "never")).toEqual([]);
});
