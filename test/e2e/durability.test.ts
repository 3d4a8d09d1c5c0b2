import { expect, it } from "vitest";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  guest,
  httpPosts,
  range,
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

it("keeps every acked event across a restart; clients resume and seqs continue", async () => {
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

  // Restart; a command issued while the server is down waits in the outbox.
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
  expect(writer.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0 });

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

it("an ack means stored: a restart right after the ack loses nothing", async () => {
  const room = await freshRoom(ada, "acked");
  const writer = await connect(server.url, room, ada);
  const seqs = await Promise.all(range(1, 10).map((i) => writer.conn.post(`quick ${i}`)));
  await server.restart();
  const page = await ada.api.events(room, 0, 1000);
  const posted = page.events.filter((e) => e.type === "message.posted");
  expect(posted.map((e) => e.seq)).toEqual(seqs);
  expect(posted.map((e) => e.data.text)).toEqual(range(1, 10).map((i) => `quick ${i}`));
  await waitUntil(
    () => writer.conn.status === "open" && writer.welcomes.length === 2,
    "writer back",
  );
  expect(writer.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0 });
});
