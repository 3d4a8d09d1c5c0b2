/**
 * The SDK's webhook calls (src/client/webhooks-api.ts) against the real worker and its local
 * Queues: every call of `api.webhooks(room)` and of `api.admin.webhooks`, each answer parsed by
 * the protocol's schema, each refusal the contract's ApiError. A local receiver plays the
 * endpoint; it fails on demand so that deliveries go dead and can be replayed.
 */
import { expect, it } from "vitest";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { ApiError, EdgechatApi, type Delivery, type WebhooksApi } from "../../src/client/index.ts";
import {
  freshRoom,
  signIn,
  useReceiver,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let root: EdgechatApi;

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada, bob] = await signIn(server, "ada", "bob");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  {
    vars: {
      ADMIN_USERNAMES: "root",
      WEBHOOK_ALLOW_LOOPBACK: "true",
      WEBHOOK_RETRY_DELAYS: "1,1,1",
    },
  },
);

const post = (room: string, text: string) =>
  ada.api.postMessage(room, { text, clientId: crypto.randomUUID() });

/** The refusal a call ends with, as the SDK throws it. */
async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** Waits until the log holds `count` deliveries, all in `status`. */
const settled = (hooks: WebhooksApi, id: string, count: number, status: Delivery["status"]) =>
  waitUntil(
    async () => {
      const { deliveries } = await hooks.deliveries(id);
      return deliveries.length === count && deliveries.every((d) => d.status === status)
        ? deliveries
        : undefined;
    },
    `${count} deliveries ${status}`,
    30_000,
  );

it("creates, lists, gets, changes, disables, enables and removes a room's webhook", async () => {
  const room = await freshRoom(ada);
  const hooks = ada.api.webhooks(room);
  const path = `/crud-${room}`;

  const { webhook, secret } = await hooks.create({
    url: receiver.url(path),
    eventTypes: ["message.posted"],
    description: "build bot",
  });
  expect(secret).toMatch(/^whsec_/);
  expect(webhook).toMatchObject({
    room,
    url: receiver.url(path),
    description: "build bot",
    eventTypes: ["message.posted"],
    status: "enabled",
    disabledReason: null,
    failuresInARow: 0,
  });
  expect((await hooks.list()).webhooks.map((w) => w.id)).toEqual([webhook.id]);
  expect(await hooks.get(webhook.id)).toEqual(webhook);

  // Without a description the server's default applies.
  const bare = await hooks.create({ url: receiver.url(`${path}-b`), eventTypes: "*" });
  expect(bare.webhook.description).toBe("");

  const changed = await hooks.update(webhook.id, {
    url: receiver.url(`${path}-2`),
    eventTypes: "*",
    description: "every event",
  });
  expect(changed).toMatchObject({ url: receiver.url(`${path}-2`), eventTypes: "*" });

  const off = await hooks.setEnabled(webhook.id, false);
  expect(off).toMatchObject({ status: "disabled", disabledReason: "manual" });
  const on = await hooks.setEnabled(webhook.id, true);
  expect(on).toMatchObject({ status: "enabled", disabledReason: null });

  const removed = await hooks.remove(webhook.id);
  expect(removed.id).toBe(webhook.id);
  expect((await refusal(hooks.get(webhook.id))).code).toBe("not_found");
  expect((await hooks.list()).webhooks.map((w) => w.id)).toEqual([bare.webhook.id]);
});

it("refuses bad input and people who do not manage the room, with the contract's codes", async () => {
  const room = await freshRoom(ada);
  const hooks = ada.api.webhooks(room);
  const loopback = await refusal(hooks.create({ url: "https://10.0.0.1/hook", eventTypes: "*" }));
  expect(loopback).toMatchObject({ code: "bad_request", status: 400 });
  expect(loopback.message).toMatch(/^url: /);
  const types = await refusal(
    // @ts-expect-error: not an event type; the server says so too.
    hooks.create({ url: "https://example.com/hook", eventTypes: ["message.exploded"] }),
  );
  expect(types.code).toBe("bad_request");
  expect((await refusal(hooks.get("wh_nope"))).code).toBe("bad_request");
  expect((await refusal(hooks.get(`wh_${"0".repeat(24)}`))).code).toBe("not_found");

  const theirs = bob.api.webhooks(room);
  expect((await refusal(theirs.list())).code).toBe("forbidden");
  expect(
    (await refusal(theirs.create({ url: "https://example.com/", eventTypes: "*" }))).status,
  ).toBe(403);
  expect((await refusal(bob.api.admin.webhooks.list())).code).toBe("forbidden");
});

it("pages and filters the delivery log, gets one delivery, and replays a dead one", async () => {
  const room = await freshRoom(ada);
  const hooks = ada.api.webhooks(room);
  const path = `/log-${room}`;
  let up = true;
  receiver.answer(path, () => (up ? 200 : 503));
  const { webhook } = await hooks.create({ url: receiver.url(path), eventTypes: "*" });

  for (const text of ["one", "two"]) await post(room, text);
  await settled(hooks, webhook.id, 2, "delivered");

  // The receiver goes down: the third delivery is retried on the schedule, then given up.
  up = false;
  await post(room, "three");
  const retrying = await waitUntil(async () => {
    const { deliveries } = await hooks.deliveries(webhook.id, { status: "retrying" });
    return deliveries[0];
  }, "a retrying delivery");
  expect(retrying.nextAttemptAt).toBeGreaterThan(retrying.attempts.at(-1)!.at);
  expect(retrying.attempts[0]).toMatchObject({ status: 503, error: null, response: "nope" });
  const dead = await waitUntil(
    async () => (await hooks.deliveries(webhook.id, { status: "dead" })).deliveries[0],
    "a dead delivery",
    30_000,
  );
  expect(dead.attempts).toHaveLength(4);

  // Newest first, one a page, `before` going back; the last page says there is no more.
  const first = await hooks.deliveries(webhook.id, { limit: 1 });
  expect(first.deliveries.map((d) => d.id)).toEqual([dead.id]);
  const second = await hooks.deliveries(webhook.id, { limit: 1, before: first.nextBefore! });
  const third = await hooks.deliveries(webhook.id, { limit: 1, before: second.nextBefore! });
  expect(third.nextBefore).toBeNull();
  expect([second, third].map((page) => page.deliveries[0]!.status)).toEqual([
    "delivered",
    "delivered",
  ]);
  expect((await hooks.deliveries(webhook.id, { status: "delivered" })).deliveries).toHaveLength(2);

  expect(await hooks.delivery(webhook.id, dead.id)).toEqual(
    (await hooks.deliveries(webhook.id, { status: "dead" })).deliveries[0],
  );
  expect((await refusal(hooks.delivery(webhook.id, `dlv_${"0".repeat(24)}`))).code).toBe(
    "not_found",
  );

  // A disabled endpoint replays nothing; enabled again, the replay delivers with the same id.
  up = true;
  await hooks.setEnabled(webhook.id, false);
  expect((await refusal(hooks.replay(webhook.id, dead.id))).code).toBe("conflict");
  await hooks.setEnabled(webhook.id, true);
  const replayed = await hooks.replay(webhook.id, dead.id);
  expect(replayed).toMatchObject({ id: dead.id, status: "pending" });
  await settled(hooks, webhook.id, 3, "delivered");
  const last = receiver.at(path).at(-1)!;
  expect(last.headers["webhook-id"]).toBe(dead.messageId);
});

it("rotates the secret: with the default overlap both sign, without one only the new", async () => {
  const room = await freshRoom(ada);
  const hooks = ada.api.webhooks(room);
  const path = `/rotate-${room}`;
  const { webhook, secret: first } = await hooks.create({
    url: receiver.url(path),
    eventTypes: ["message.posted"],
  });
  const rotated = await hooks.rotateSecret(webhook.id);
  expect(rotated.webhook.secrets).toHaveLength(2);
  // The default overlap is 24 hours.
  const old = rotated.webhook.secrets[1]!;
  expect(old.expiresAt! - Date.now()).toBeGreaterThan(23.9 * 3600_000);
  await post(room, "signed twice");
  const got = await waitUntil(() => receiver.at(path)[0]);
  new StandardWebhook(first).verify(got.body, got.headers);
  new StandardWebhook(rotated.secret).verify(got.body, got.headers);

  const again = await hooks.rotateSecret(webhook.id, 0);
  expect(again.webhook.secrets.map((s) => s.hint)).toEqual([again.secret.slice(0, 10)]);
  await post(room, "signed once");
  const next = await waitUntil(() => receiver.at(path)[1]);
  expect(next.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  new StandardWebhook(again.secret).verify(next.body, next.headers);
  expect((await refusal(hooks.rotateSecret(webhook.id, 8 * 86_400))).code).toBe("bad_request");
});

it("manages the instance's webhooks through api.admin.webhooks: every room's events", async () => {
  const hooks = root.admin.webhooks;
  const path = `/instance-${Date.now()}`;
  const { webhook, secret } = await hooks.create({
    url: receiver.url(path),
    eventTypes: ["room.topic_changed"],
    description: "audit mirror",
  });
  expect(webhook.room).toBeUndefined();
  expect((await hooks.list()).webhooks.map((w) => w.id)).toContain(webhook.id);

  // Two rooms made after it: the instance's endpoint hears both.
  const rooms = [await freshRoom(ada), await freshRoom(bob)];
  for (const [i, room] of rooms.entries())
    await (i ? bob : ada).api.command(room, {
      type: "topic",
      clientId: crypto.randomUUID(),
      topic: `topic ${i}`,
    });
  const got = await waitUntil(() =>
    receiver.at(path).length >= 2 ? receiver.at(path) : undefined,
  );
  for (const request of got) new StandardWebhook(secret).verify(request.body, request.headers);
  const heard = got.map((r) => (JSON.parse(r.body) as { data: { room: string } }).data.room);
  expect(heard.sort()).toEqual([...rooms].sort());

  const log = await settled(hooks, webhook.id, 2, "delivered");
  expect(await hooks.delivery(webhook.id, log[0]!.id)).toEqual(log[0]);
  expect((await hooks.update(webhook.id, { description: "renamed" })).description).toBe("renamed");
  expect((await hooks.rotateSecret(webhook.id, 3600)).webhook.secrets).toHaveLength(2);
  expect((await hooks.replay(webhook.id, log[0]!.id)).status).toBe("pending");
  await settled(hooks, webhook.id, 2, "delivered");
  expect((await hooks.remove(webhook.id)).description).toBe("renamed");
  expect((await refusal(hooks.get(webhook.id))).code).toBe("not_found");
});
