/**
 * GraphQL subscriptions through the real server (wrangler dev) with the ecosystem's own clients:
 * graphql-ws over the room's socket, resuming after network cuts with no loss and no duplicate,
 * and graphql-sse over /graphql.
 */
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import { afterEach, expect, it } from "vitest";
import WebSocket from "ws";
import {
  flakyNetwork,
  freshRoom,
  httpPosts,
  range,
  signIn,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
useServer(async (started) => {
  server = started;
  [ada, bob] = await signIn(server, "ada", "bob");
});

const clients: WsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});

const EVENTS = `subscription($room: String!, $since: Int) {
  roomEvents(room: $room, since: $since) { seq type actor { name } }
}`;

type Seen = { seq: number; type: string; actor: { name: string } };

/**
 * A graphql-ws client as an application would write one to resume exactly: it subscribes with
 * `since` and moves `since` forward with every event, so that each reconnect subscribes again
 * from the last seq it has (graphql-ws sends the same payload object again on reconnect).
 */
function follow(baseUrl: string, room: string, token: string, since: number) {
  const seen: Seen[] = [];
  let connections = 0;
  const client = createWsClient({
    url: `${baseUrl.replace(/^http/, "ws")}/api/rooms/${room}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 20,
    retryWait: async () => new Promise((resolve) => setTimeout(resolve, 100)),
    shouldRetry: () => true,
    on: { connected: () => void (connections += 1) },
  });
  clients.push(client);
  const variables = { room, since };
  const payload = { query: EVENTS, variables };
  const errors: unknown[] = [];
  client.subscribe<{ roomEvents: Seen }>(payload, {
    next: ({ data, errors: failed }) => {
      if (failed) errors.push(failed);
      if (!data) return;
      seen.push(data.roomEvents);
      variables.since = data.roomEvents.seq;
    },
    error: (error) => errors.push(error),
    complete: () => undefined,
  });
  return { seen, errors, connections: () => connections };
}

it("graphql-ws follows a room live and resumes after network cuts with no loss and no duplicate", async () => {
  const room = await freshRoom(ada, "gqlws");
  const network = await flakyNetwork(server);
  // From the room's last seq: the first post may commit before the subscribe message arrives,
  // and is replayed then, not lost.
  const { lastSeq } = await ada.api.getRoom(room);
  const reader = follow(network.url, room, bob.token, lastSeq);
  await waitUntil(() => reader.connections() === 1, "connected");
  const [first] = await httpPosts(ada, room, 1, "first");
  await waitUntil(() => reader.seen.length === 1, "the first event");
  expect(reader.seen[0]).toEqual({ seq: first, type: "message.posted", actor: { name: "ada" } });

  let writing = true;
  const writer = httpPosts(ada, room, 300, "w", 4).finally(() => (writing = false));
  let cuts = 0;
  while (writing && cuts < 4) {
    const had = reader.seen.length;
    // Connected again since the last cut (events the cut socket had buffered can still arrive),
    // and events flowing on the new connection.
    await waitUntil(
      () => !writing || (reader.connections() === cuts + 1 && reader.seen.length > had + 10),
      "progress before a cut",
    );
    if (!writing) break;
    expect(network.cut()).toBeGreaterThanOrEqual(1);
    cuts += 1;
  }
  const seqs = await writer;
  const last = Math.max(...seqs);
  await waitUntil(() => reader.seen.at(-1)?.seq === last, "every event", 30_000);
  expect(cuts).toBeGreaterThanOrEqual(2);
  expect(reader.connections()).toBe(cuts + 1);
  expect(reader.seen.map((event) => event.seq)).toEqual(range(first!, last));
  expect(reader.errors).toEqual([]);
});

it("graphql-sse streams the same events over /graphql: replayed after since, then live", async () => {
  const room = await freshRoom(ada, "gqlsse");
  const posted = (await httpPosts(ada, room, 8, "s", 1)).sort((x, y) => x - y);
  const client = createSseClient({
    url: `${server.url}/graphql`,
    headers: { authorization: `Bearer ${bob.token}` },
    retryAttempts: 0,
  });
  /** The seqs of the first `count` events after `since`; `whenCaughtUp` runs once `after` are in. */
  const take = (since: number, count: number, after = count, whenCaughtUp = () => {}) =>
    new Promise<number[]>((resolve, reject) => {
      const seqs: number[] = [];
      const stop = client.subscribe<{ roomEvents: Seen }>(
        { query: EVENTS, variables: { room, since } },
        {
          next: ({ data }) => {
            seqs.push(data!.roomEvents.seq);
            if (seqs.length === after) whenCaughtUp();
            if (seqs.length < count) return;
            stop();
            resolve(seqs);
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
  const firstFive = await take(posted[0]! - 1, 5);
  expect(firstFive).toEqual(posted.slice(0, 5));
  let live: number[] = [];
  const rest = await take(firstFive.at(-1)!, 4, 3, () => {
    void httpPosts(ada, room, 1, "live", 1).then((seqs) => (live = seqs));
  });
  expect(rest).toEqual([...posted.slice(5), rest[3]]);
  await waitUntil(() => live.length === 1, "the live post's ack");
  expect(rest[3]).toBe(live[0]);
  client.dispose();
});
