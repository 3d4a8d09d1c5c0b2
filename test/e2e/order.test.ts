import { expect, it } from "vitest";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  guest,
  httpPosts,
  pacedPosts,
  range,
  startServer,
  type Client,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;

useServer(async (started) => {
  server = started;
});

it("gives every receiver the same total order while 3 clients and an HTTP bot send at once", async () => {
  const owner = await guest(server.url, "owner");
  const room = await freshRoom(owner, "order");
  const users = await Promise.all(["ann", "ben", "cat", "dan"].map((n) => guest(server.url, n)));
  const senders = await Promise.all(users.slice(0, 3).map((u) => connect(server.url, room, u)));
  const listener = await connect(server.url, room, users[3]!);
  const receivers: Client[] = [...senders, listener];
  const bot = await guest(server.url, "bot");

  const PER_SENDER = 100;
  const BOT = 60;
  const [acked, botSeqs] = await Promise.all([
    Promise.all(
      senders.map((s, k) =>
        pacedPosts(
          s.conn,
          range(0, PER_SENDER - 1).map((i) => `s${k}-${i}`),
        ),
      ),
    ),
    httpPosts(bot, room, BOT, "bot"),
  ]);

  // Every ack is a distinct seq; each connection's commands keep their order in the log.
  const allAcked = [...acked.flat(), ...botSeqs];
  expect(new Set(allAcked).size).toBe(3 * PER_SENDER + BOT);
  for (const seqs of acked) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

  const last = Math.max(...allAcked);
  await Promise.all(receivers.map((r) => r.untilSeq(last)));

  // Everyone saw the same events, contiguous from just after its welcome, without dup or reorder.
  const reference = listener.events.filter(
    (e) => e.seq > Math.max(...receivers.map((r) => r.welcomes[0]!.lastSeq)),
  );
  for (const r of receivers) {
    const from = r.welcomes[0]!.lastSeq + 1;
    expect(r.seqs).toEqual(range(from, last));
    expect(r.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
    const tail = r.events.filter((e) => e.seq >= reference[0]!.seq);
    expect(tail.map((e) => e.id)).toEqual(reference.map((e) => e.id));
  }

  // Each ack names the event that carries that sender's text.
  const bySeq = new Map(listener.events.map((e) => [e.seq, e]));
  acked.forEach((seqs, k) =>
    seqs.forEach((seq, i) => {
      const event = bySeq.get(seq)!;
      expect(event.type).toBe("message.posted");
      expect(event.actor.id).toBe(users[k]!.user.id);
      expect((event.data as { text: string }).text).toBe(`s${k}-${i}`);
    }),
  );

  // The log over HTTP is the same order.
  const page = await owner.api.events(room, 0, 1000);
  expect(page.lastSeq).toBe(last);
  expect(page.events.map((e) => e.seq)).toEqual(range(1, last));
  const logTail = page.events.filter((e) => e.seq >= reference[0]!.seq).map((e) => e.id);
  expect(logTail).toEqual(reference.map((e) => e.id));
});

it("keeps one order for mixed commands (posts, edits, reactions) from many connections of one user", async () => {
  const ada = await guest(server.url, "ada");
  const room = await freshRoom(ada, "mixed");
  const tabs = await Promise.all([1, 2, 3].map(() => connect(server.url, room, ada)));
  const seed = await tabs[0]!.conn.post("seed");
  const work = tabs.map(async (tab, k) => {
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const [posted] = await Promise.all([
        tab.conn.post(`t${k}-${i}`),
        tab.conn.react(seed, ["👍", "🎉", "❤️"][k]!, i % 2 === 0),
        tab.conn.edit(seed, `edit ${k}-${i}`),
      ]);
      seqs.push(posted);
    }
    return seqs;
  });
  await Promise.all(work);
  const last = (await ada.api.getRoom(room)).lastSeq;
  await Promise.all(tabs.map((t) => t.untilSeq(last)));
  const ids = tabs.map((t) => t.events.filter((e) => e.seq > seed).map((e) => e.id));
  expect(ids[1]).toEqual(ids[0]);
  expect(ids[2]).toEqual(ids[0]);
  for (const t of tabs)
    expect(t.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  // The final state matches the last edit in the log.
  const lastEdit = tabs[0]!.events.filter((e) => e.type === "message.edited").at(-1)!;
  const [message] = (await ada.api.messages(room, { before: seed + 1, limit: 1 })).messages;
  expect(message!.text).toBe((lastEdit.data as { text: string }).text);
});
