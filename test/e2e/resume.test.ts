import { expect, it } from "vitest";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  flakyNetwork,
  freshRoom,
  guest,
  httpPosts,
  range,
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
let bob: Guest;

useServer(async (started) => {
  server = started;
  [ada, bob] = await signIn(server, "ada", "bob");
});

it("replays exactly the 500 missed events to a client that resumes with since, then live ones", async () => {
  const room = await freshRoom(ada, "resume");
  const first = await connect(server.url, room, bob);
  const warmup = await httpPosts(ada, room, 5, "w");
  await first.untilSeq(Math.max(...warmup));
  const cut = first.conn.lastSeq;
  first.close();

  const missed = await httpPosts(ada, room, 500, "m");
  expect(Math.min(...missed)).toBe(cut + 1);
  const end = cut + 500;

  const back = await connect(server.url, room, bob, { since: cut });
  await back.untilSeq(end);
  const frames = back.sockets[0]!.frames;
  expect(frames[0]).toMatchObject({ type: "welcome", lastSeq: end });
  expect(frames.filter((f) => f.type === "gap")).toEqual([]);
  const replayed = frames.filter((f) => f.type === "event").map((f) => f.event.seq);
  expect(replayed).toEqual(range(cut + 1, end));
  expect(back.seqs).toEqual(range(cut + 1, end));
  // Replayed content is what was posted at each seq (parallel posts land in any order).
  const textAt = new Map(missed.map((seq, i) => [seq, `m${i}`]));
  expect(back.events.map((e) => (e.data as { text: string }).text)).toEqual(
    back.seqs.map((seq) => textAt.get(seq)),
  );

  // Then live.
  const live = await Promise.all([
    back.conn.post("live 1"),
    ada.api.postMessage(room, { text: "live 2", clientId: "l2" }),
  ]);
  await back.untilSeq(Math.max(live[0], live[1].seq));
  expect(back.seqs).toEqual(range(cut + 1, end + 2));
  expect(back.gaps).toEqual([]);
  expect(back.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
});

it("sends a gap frame and the newest 1000 events to a client behind by more than 1000", async () => {
  const room = await freshRoom(ada, "gap");
  // bob becomes a member first, so that his connecting later appends no member.joined.
  await bob.api.postMessage(room, { text: "hi", clientId: "join" });
  const cut = (await ada.api.getRoom(room)).lastSeq;
  await httpPosts(ada, room, 1200, "g", 24);
  const end = cut + 1200;

  const raw = await rawConnect(server.url, room, bob.token, cut);
  await raw.nth("event", 1000);
  const afterWelcome = raw.frames.slice(1);
  expect(raw.frames[0]).toMatchObject({ type: "welcome", lastSeq: end });
  expect(afterWelcome[0]).toEqual({ type: "gap", after: cut, before: end - 999 });
  const seqs = afterWelcome.slice(1).map((f) => (f.type === "event" ? f.event.seq : -1));
  expect(seqs).toEqual(range(end - 999, end));
  // The client pages the hole in over HTTP and so has the whole log, once.
  const hole = await bob.api.events(room, cut, end - 999 - 1 - cut);
  expect([...hole.events.map((e) => e.seq), ...seqs]).toEqual(range(cut + 1, end));

  // The SDK reports the gap, skips its cursor past it, and counts no anomaly.
  const sdk = await connect(server.url, room, bob, { since: cut });
  await sdk.untilSeq(end);
  expect(sdk.gaps).toEqual([{ type: "gap", after: cut, before: end - 999 }]);
  expect(sdk.seqs).toEqual(range(end - 999, end));
  expect(sdk.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });

  // Exactly 1000 behind: no gap.
  const exact = await rawConnect(server.url, room, bob.token, end - 1000);
  await exact.nth("event", 1000);
  await exact.roundTrip();
  expect(exact.of("gap")).toEqual([]);
  expect(exact.of("event").map((f) => f.event.seq)).toEqual(range(end - 999, end));
  // since = lastSeq, or beyond it: nothing to replay.
  for (const since of [end, end + 50]) {
    const upToDate = await rawConnect(server.url, room, bob.token, since);
    await upToDate.roundTrip();
    expect(upToDate.frames.map((f) => f.type)).toEqual(["welcome", "pong"]);
  }
});

it("SDK reconnects by itself after network drops and catches up with no loss and no duplicate", async () => {
  const room = await freshRoom(ada, "drops");
  const network = await flakyNetwork(server);
  const reader = await connect(network.url, room, bob);
  const from = reader.welcomes[0]!.lastSeq + 1;
  let writing = true;
  const writer = httpPosts(ada, room, 400, "d", 4).finally(() => (writing = false));
  let drops = 0;
  while (writing && drops < 6) {
    const seen = reader.conn.lastSeq;
    await waitUntil(
      () => !writing || (reader.conn.status === "open" && reader.conn.lastSeq > seen + 10),
      "progress before a drop",
    );
    if (!writing) break;
    // Events in flight on the cut connection are lost with it; the resume must bring them back.
    expect(network.cut()).toBe(1);
    drops += 1;
  }
  const seqs = await writer;
  const end = Math.max(...seqs);
  await reader.untilSeq(end);
  expect(drops).toBeGreaterThanOrEqual(2);
  expect(reader.welcomes.length).toBe(drops + 1);
  expect(reader.statuses.filter((s) => s === "reconnecting").length).toBe(drops);
  expect(reader.seqs).toEqual(range(from, end));
  expect(reader.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
  // Each drop was a broken connection, not a close; every reconnect asked for a replay after
  // what it had, and the replay started right there.
  for (const socket of reader.sockets.slice(0, drops))
    expect(socket.closed).toEqual({ code: 1006, wasClean: false });
  let delivered = from - 1;
  for (const socket of reader.sockets) {
    const since = new URL(socket.url).searchParams.get("since");
    if (socket !== reader.sockets[0]) expect(since).toBe(String(delivered));
    const events = socket.frames.flatMap((f) => (f.type === "event" ? [f.event.seq] : []));
    if (events.length > 0 && socket !== reader.sockets[0]) expect(events[0]).toBe(delivered + 1);
    delivered = Math.max(delivered, ...events);
  }
});

it("a client that saw no event yet still resumes after the welcome's lastSeq (nothing lost while it was away)", async () => {
  const room = await freshRoom(ada, "quiet");
  await httpPosts(ada, room, 10, "old");
  const reader = await connect(server.url, room, bob);
  const welcomeSeq = reader.welcomes[0]!.lastSeq;
  expect(reader.events).toEqual([]);
  expect(reader.conn.lastSeq).toBe(welcomeSeq);

  // Away (closed), then the same object connects again.
  reader.conn.close();
  const missed = await httpPosts(ada, room, 20, "away");
  reader.conn.connect();
  await reader.welcomed(2);
  await reader.untilSeq(Math.max(...missed));
  expect(reader.seqs).toEqual(range(welcomeSeq + 1, welcomeSeq + 20));

  // The same through a network drop.
  const network = await flakyNetwork(server);
  const quiet = await connect(network.url, room, bob);
  const base = quiet.conn.lastSeq;
  expect(network.cut()).toBe(1);
  const more = await httpPosts(ada, room, 20, "drop");
  await quiet.welcomed(2);
  expect(new URL(quiet.sockets[1]!.url).searchParams.get("since")).toBe(String(base));
  await quiet.untilSeq(Math.max(...more));
  expect(quiet.seqs).toEqual(range(base + 1, base + 20));
  expect(quiet.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
});
