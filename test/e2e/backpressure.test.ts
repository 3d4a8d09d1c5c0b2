import { expect, it } from "vitest";
import { ApiError, BATCH_SUBPROTOCOL, CLOSE, ErrorBody } from "../../src/protocol/index.ts";
import { closeFrameCode } from "../security/helpers.ts";
import {
  connect,
  freshRoom,
  httpPosts,
  range,
  rawConnect,
  signIn,
  sleep,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let cat: Guest;

// A tiny queue and slow-consumer bound, so that a test can reach them with a few hundred commands;
// a delivery-lag bound above what a test's own clients reach.
useServer(
  async (started) => {
    server = started;
    [ada, bob, cat] = await signIn(server, "ada", "bob", "cat");
  },
  {
    vars: {
      ROOM_QUEUE_MAX_COMMANDS: "3",
      ROOM_QUEUE_MAX_WAIT_MS: "1000",
      ROOM_SLOW_CONSUMER_EVENTS: "300",
      ROOM_MAX_DELIVERY_LAG_MS: "1000",
    },
  },
);

it("past its queue a room refuses with overloaded and Retry-After; everything it accepted is stored once", async () => {
  const room = await freshRoom(ada, "busy");
  const answers = await Promise.all(
    range(1, 80).map(async (i) => {
      const response = await fetch(`${server.url}/api/rooms/${room}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: `burst ${i}`, clientId: `b${i}` }),
      });
      return { i, response, body: (await response.json()) as unknown };
    }),
  );
  const refused = answers.filter(({ response }) => response.status === 503);
  const stored = answers.filter(({ response }) => response.status === 201);
  expect(refused.length + stored.length).toBe(80);
  expect(refused.length).toBeGreaterThan(0);
  for (const { response, body } of refused) {
    expect(ErrorBody.parse(body).error.code).toBe("overloaded");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }
  const { events } = await ada.api.events(room, 0, 1000);
  const texts = events.flatMap((e) => (e.type === "message.posted" ? [e.data.text] : []));
  expect(texts.sort()).toEqual(stored.map(({ i }) => `burst ${i}`).sort());
});

it("the SDK backs off on overloaded and resends through its outbox: every post acked, stored once", async () => {
  const room = await freshRoom(ada, "retry");
  const clients = await Promise.all([ada, bob, cat].map((who) => connect(server.url, room, who)));
  let overloaded = 0;
  for (const client of clients) client.conn.on("overloaded", () => (overloaded += 1));
  // HTTP traffic keeps the queue full while the sockets post.
  const noise = httpPosts(ada, room, 40, "noise", 8).catch((error: unknown) => {
    if (!(error instanceof ApiError && error.code === "overloaded")) throw error;
  });
  const seqs = await Promise.all(
    clients.flatMap((client, c) => range(1, 10).map((i) => client.conn.post(`sdk ${c}-${i}`))),
  );
  await noise;
  expect(overloaded).toBeGreaterThan(0);
  expect(new Set(seqs).size).toBe(30);
  const { events } = await ada.api.events(room, 0, 1000);
  for (const [n, seq] of seqs.entries()) {
    const text = `sdk ${Math.floor(n / 10)}-${(n % 10) + 1}`;
    const found = events.filter((e) => e.type === "message.posted" && e.data.text === text);
    expect(found.map((e) => e.seq)).toEqual([seq]);
  }
});

it("a batch client that falls behind is cut off with 4408 and resumes by seq; one that keeps up stays", async () => {
  const room = await freshRoom(ada, "slow");
  // Never says what it received: to the room it looks like a socket whose network stalled.
  const stalled = await rawConnect(server.url, room, bob.token, undefined, BATCH_SUBPROTOCOL);
  const keeping = await connect(server.url, room, cat);
  const seqs = await httpPosts(ada, room, 400, "flood", 4);
  // Its close frame, not the TCP close after it, which the local runtime holds back 15 s.
  expect(await closeFrameCode(stalled)).toBe(CLOSE.slowConsumer);
  const last = Math.max(...seqs);
  await keeping.untilSeq(last);
  expect(keeping.fatals).toEqual([]);
  expect(keeping.welcomes).toHaveLength(1);
  expect(keeping.messages().map((e) => e.seq)).toEqual(seqs.toSorted((a, b) => a - b));
  // It comes back with what it had and gets the rest, in order, nothing twice.
  const had = stalled.of("event").at(-1)!.event.seq;
  const back = await rawConnect(server.url, room, bob.token, had, BATCH_SUBPROTOCOL);
  await waitUntil(
    () => back.of("event").at(-1)?.event.seq === last,
    "the resumed client at the end",
  );
  expect(back.of("event").map((f) => f.event.seq)).toEqual(range(had + 1, last));
});

it("refuses new commands while its clients say its events reach them late, and takes them again after", async () => {
  const room = await freshRoom(ada, "late");
  const post = (text: string) =>
    fetch(`${server.url}/api/rooms/${room}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/json" },
      body: JSON.stringify({ text, clientId: text }),
    });
  const late = await rawConnect(server.url, room, bob.token, undefined, BATCH_SUBPROTOCOL);
  const [seq] = await httpPosts(ada, room, 1, "first", 1);
  await waitUntil(() => late.of("event").some((f) => f.event.seq === seq), "the event delivered");
  // Said 1.3 s after the event left: to the room, its events now reach this client that late.
  await sleep(1300);
  late.sendJson({ type: "received", seq });
  let refusal: Response | undefined;
  await waitUntil(async () => {
    const response = await post(`while late ${Date.now()}`);
    if (response.status === 503) refusal = response;
    return refusal !== undefined;
  }, "a post refused while the room is late");
  expect(ErrorBody.parse(await refusal!.json()).error.code).toBe("overloaded");
  expect(Number(refusal!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  // A report says nothing after 2 s: with no fresh one the room is not late any more.
  await waitUntil(
    async () => (await post(`after ${Date.now()}`)).status === 201,
    "a post accepted again",
    5_000,
    200,
  );
});
