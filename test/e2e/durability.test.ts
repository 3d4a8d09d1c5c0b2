import { expect, it } from "vitest";
import { ApiError } from "../../src/client/index.ts";
import type { ServerFrameOf } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  guest,
  httpPosts,
  range,
  sleep,
  startServer,
  waitUntil,
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;

useServer(async (started) => {
  server = started;
  [ada, bob] = await signIn(server, "ada", "bob");
});

it("keeps the log, the projections and the idempotency keys when the dev server is stopped and started again; clients resume and seqs continue", async () => {
  const room = await freshRoom(ada, "durable");
  const writer = await connect(server.url, room, ada);
  const away = await connect(server.url, room, bob);
  const viaSocket = await Promise.all(range(1, 30).map((i) => writer.conn.post(`ws ${i}`)));
  await away.untilSeq(Math.max(...viaSocket));
  const cut = away.conn.lastSeq;
  away.close();
  const viaHttp = await httpPosts(ada, room, 20, "http");
  const idem = await ada.api.postMessage(room, { text: "remember me", clientId: "keep-1" });
  // Edit and react so that the projections, not only the log, must survive.
  await writer.conn.edit(viaSocket[0]!, "ws 1 (edited)");
  await writer.conn.react(viaSocket[1]!, "👍", true);
  await writer.conn.delete(viaSocket[2]!);
  const last = (await ada.api.getRoom(room)).lastSeq;
  await writer.untilSeq(last);
  const eventsBefore = (await ada.api.events(room, 0, 1000)).events;
  const messagesBefore = (await ada.api.messages(room, { limit: 1000 })).messages;
  expect(eventsBefore.map((e) => e.seq)).toEqual(range(1, last));

  // Stop and start the whole dev server; a command issued while it is down waits in the outbox.
  const restarting = server.restart();
  await waitUntil(() => writer.conn.status === "reconnecting", "writer notices the restart");
  const during = writer.conn.post("sent while restarting");
  await restarting;

  // The log and the projections are all still there.
  const duringSeq = await during;
  expect(duringSeq).toBe(last + 1);
  const eventsAfter = (await ada.api.events(room, 0, 1000)).events;
  expect(eventsAfter.slice(0, last)).toEqual(eventsBefore);
  expect(eventsAfter.map((e) => e.seq)).toEqual(range(1, last + 1));
  const messagesAfter = (await ada.api.messages(room, { limit: 1000 })).messages;
  expect(messagesAfter.slice(1)).toEqual(messagesBefore);
  expect(messagesAfter.find((m) => m.id === viaSocket[0])).toMatchObject({ text: "ws 1 (edited)" });
  expect(messagesAfter.find((m) => m.id === viaSocket[1])!.reactions).toEqual({
    "👍": [ada.user.id],
  });
  expect(messagesAfter.find((m) => m.id === viaSocket[2])).toMatchObject({
    deleted: true,
    text: "",
  });
  // Idempotency keys survive too.
  expect((await ada.api.postMessage(room, { text: "remember me", clientId: "keep-1" })).seq).toBe(
    idem.seq,
  );
  // So do the room's info and the directory.
  expect(await ada.api.getRoom(room)).toMatchObject({ name: room, members: 2, lastSeq: last + 1 });
  expect((await ada.api.listRooms()).rooms.map((r) => r.name)).toContain(room);

  // The SDK client came back by itself and lost nothing.
  expect(writer.welcomes.length).toBeGreaterThanOrEqual(2);
  expect(writer.statuses.slice(-2)).toEqual(["reconnecting", "open"]);
  await writer.untilSeq(last + 1);
  expect(writer.seqs).toEqual(range(writer.welcomes[0]!.lastSeq + 1, last + 1));
  expect(writer.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });

  // A client that was away resumes with since: exactly the missing ones.
  const back = await connect(server.url, room, bob, { since: cut });
  await back.untilSeq(last + 1);
  expect(back.seqs).toEqual(range(cut + 1, last + 1));
  expect(back.gaps).toEqual([]);
  expect(back.events.filter((e) => e.type === "message.posted").map((e) => e.seq)).toEqual([
    ...viaHttp.sort((a, b) => a - b),
    idem.seq,
    duringSeq,
  ]);

  // New posts continue the seq without a hole.
  const next = await Promise.all([writer.conn.post("after 1"), back.conn.post("after 2")]);
  expect(next.sort((a, b) => a - b)).toEqual([last + 2, last + 3]);
  await Promise.all([writer.untilSeq(last + 3), back.untilSeq(last + 3)]);
  expect(writer.seqs.at(-1)).toBe(last + 3);
  expect(back.seqs).toEqual(range(cut + 1, last + 3));
});

/**
 * Posts over HTTP until a 201, resending the same clientId after a lost connection or a 5xx (what
 * a crashed runtime answers for a moment); returns the seq and when it was answered.
 */
async function postUntilStored(
  who: Guest,
  room: string,
  text: string,
  clientId: string,
): Promise<{ seq: number; at: number }> {
  let last: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { seq } = await who.api.postMessage(room, { text, clientId });
      return { seq, at: performance.now() };
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) throw error;
      last = error;
      await sleep(100);
    }
  }
  throw new Error(`"${text}" was never stored: ${String(last)}`);
}

it("an ack means stored: the runtime killed with SIGKILL as acks arrive loses no acked command and applies none twice", async () => {
  const room = await freshRoom(ada, "crash");
  const writer = await connect(server.url, room, ada);
  const socket = writer.sockets[0]!;
  const killed = server.runtimePid;

  // The kill lands in the very turn the 10th ack arrives, with the other posts in flight: some
  // stored and not yet acked, some not yet read by the room.
  let crashedAt = Infinity;
  let recovered: Promise<void> | undefined;
  let ackedBeforeCrash: ServerFrameOf<"ack">[] = [];
  socket.addEventListener("message", () => {
    const acks = socket.frames.filter((f) => f.type === "ack");
    if (recovered || acks.length < 10) return;
    ackedBeforeCrash = acks;
    crashedAt = performance.now();
    recovered = server.crash();
  });
  // A bot posting over HTTP meanwhile, one request after the other, some answered before the crash.
  const viaHttp = range(1, 15).map((i) => ({ text: `http ${i}`, clientId: `http-${i}` }));
  const answers: { seq: number; at: number }[] = [];
  const bot = (async () => {
    for (const { text, clientId } of viaHttp)
      answers.push(await postUntilStored(bob, room, text, clientId));
  })();
  await waitUntil(() => answers.length >= 3, "the bot's first posts");
  const viaSocket = range(1, 30).map((i) => ({ text: `ws ${i}`, clientId: `ws-${i}` }));
  const socketSeqs = viaSocket.map(({ text, clientId }) => writer.conn.post(text, { clientId }));

  await waitUntil(() => recovered !== undefined, "the 10th ack, and the crash");
  await recovered;
  expect(server.runtimePid).not.toBe(killed);
  expect(ackedBeforeCrash.length).toBeGreaterThanOrEqual(10);

  // The SDK reconnects and resends what was not acked, with the same clientIds; the bot retries.
  const finalSeqs = await Promise.all(socketSeqs);
  await bot;
  expect(writer.conn.pendingCommands).toBe(0);
  expect(writer.welcomes.length).toBeGreaterThanOrEqual(2);

  const { events, lastSeq } = await ada.api.events(room, 0, 1000);
  expect(events.map((e) => e.seq)).toEqual(range(1, lastSeq));
  const posted = events.filter((e) => e.type === "message.posted");
  const seqsOf = (text: string) =>
    posted.filter((e) => (e.data as { text: string }).text === text).map((e) => e.seq);
  // Every command acked before the crash is in the log exactly once, at the seq its ack named.
  expect(answers.filter((a) => a.at < crashedAt).length).toBeGreaterThanOrEqual(3);
  for (const ack of ackedBeforeCrash) {
    const { text } = viaSocket.find((c) => c.clientId === ack.clientId)!;
    expect({ text, seqs: seqsOf(text) }).toEqual({ text, seqs: [ack.seq] });
  }
  // So is every other one, once its resend was acked after the restart; and every post of the
  // bot, answered before the crash or after.
  viaSocket.forEach(({ text }, i) =>
    expect({ text, seqs: seqsOf(text) }).toEqual({ text, seqs: [finalSeqs[i]] }),
  );
  viaHttp.forEach(({ text }, i) =>
    expect({ text, seqs: seqsOf(text) }).toEqual({ text, seqs: [answers[i]!.seq] }),
  );
  // Nothing else was posted: no copy of an unacked command slipped in.
  expect(posted).toHaveLength(viaSocket.length + viaHttp.length);

  await writer.untilSeq(lastSeq);
  expect(writer.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
});
