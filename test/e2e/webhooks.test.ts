/**
 * Outgoing webhooks end to end (docs/integrations.md), on the real worker with real local
 * Queues (miniflare's): a room's owner adds an endpoint, posts, and a local receiver gets each
 * event signed per Standard Webhooks, checked with the spec's reference library; a receiver that
 * fails and then recovers gets every delivery, retried on the (shortened) schedule with the same
 * webhook-id; a receiver that never recovers sends it to the dead-letter queue, from where a
 * replay delivers it; 410 disables the endpoint; the secret rotates with two valid signatures.
 */
import { expect, it } from "vitest";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { EdgechatApi } from "../../src/client/index.ts";
import { WebhookPayload, type Delivery, type Webhook } from "../../src/protocol/index.ts";
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

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada, bob] = await signIn(server, "ada", "bob");
  },
  // Tries 1 s apart (four in all), and loopback receivers allowed, as in local development.
  {
    vars: {
      WEBHOOK_ALLOW_LOOPBACK: "true",
      WEBHOOK_RETRY_DELAYS: "1,1,1",
      // An endpoint failing for 2 s (and at least 5 tries) is disabled: 5 days in production.
      WEBHOOK_DISABLE_AFTER_SECONDS: "2",
      ADMIN_USERNAMES: "root",
    },
  },
);

async function call<T>(who: Guest, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function addWebhook(room: string, path: string, eventTypes: unknown = ["message.posted"]) {
  const created = await call<{ webhook: Webhook; secret: string }>(
    ada,
    "POST",
    `/api/rooms/${room}/webhooks`,
    { url: receiver.url(path), eventTypes },
  );
  expect(created.status).toBe(201);
  return created.body;
}

const post = (room: string, text: string) =>
  ada.api.postMessage(room, { text, clientId: crypto.randomUUID() });

async function deliveries(room: string, webhook: string): Promise<Delivery[]> {
  const page = await call<{ deliveries: Delivery[] }>(
    ada,
    "GET",
    `/api/rooms/${room}/webhooks/${webhook}/deliveries`,
  );
  return page.body.deliveries;
}

it("delivers each posted message, signed per Standard Webhooks, in a log with its tries", async () => {
  const room = await freshRoom(ada);
  const path = `/ok-${room}`;
  const { webhook, secret } = await addWebhook(room, path);
  expect(secret).toMatch(/^whsec_/);
  expect(webhook.secrets[0]!.hint).toBe(secret.slice(0, 10));
  const seqs = [];
  for (const text of ["one", "two", "three"]) seqs.push((await post(room, text)).seq);

  const got = await waitUntil(() =>
    receiver.at(path).length >= 3 ? receiver.at(path) : undefined,
  );
  const reference = new StandardWebhook(secret);
  const payloads = got.map((request) => {
    // The reference implementation checks the id, the timestamp's tolerance and the signature.
    reference.verify(request.body, request.headers);
    expect(request.headers["content-type"]).toBe("application/json");
    return WebhookPayload.parse(JSON.parse(request.body));
  });
  expect(payloads.map((p) => p.data.event.seq).sort()).toEqual(seqs.sort());
  expect(payloads.every((p) => p.type === "message.posted" && p.data.room === room)).toBe(true);
  expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(3);

  const log = await waitUntil(async () => {
    const list = await deliveries(room, webhook.id);
    return list.length === 3 && list.every((d) => d.status === "delivered") ? list : undefined;
  });
  expect(log.every((d) => d.attempts.length === 1 && d.attempts[0]!.status === 200)).toBe(true);
  expect(log.map((d) => d.messageId).sort()).toEqual(
    got.map((r) => r.headers["webhook-id"]).sort(),
  );
});

it("sends only the event types asked for", async () => {
  const room = await freshRoom(ada);
  const path = `/types-${room}`;
  await addWebhook(room, path, ["room.topic_changed"]);
  await post(room, "not this one");
  await ada.api.command(room, { type: "topic", clientId: crypto.randomUUID(), topic: "new topic" });
  const got = await waitUntil(() =>
    receiver.at(path).length >= 1 ? receiver.at(path) : undefined,
  );
  expect(JSON.parse(got[0]!.body).type).toBe("room.topic_changed");
  await post(room, "nor this one");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(receiver.at(path)).toHaveLength(1);
});

it("retries a failing receiver on the schedule, with the same webhook-id, until it recovers", async () => {
  const room = await freshRoom(ada);
  const path = `/flaky-${room}`;
  // The first two tries of each delivery fail (500, then a 503 asking to wait), the third succeeds.
  const tries = new Map<string, number>();
  receiver.answer(path, (request) => {
    const id = request.headers["webhook-id"]!;
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    return n === 1 ? 500 : n === 2 ? { status: 503, headers: { "retry-after": "1" } } : 204;
  });
  const { webhook } = await addWebhook(room, path);
  await post(room, "eventually");
  await post(room, "also eventually");

  const log = await waitUntil(
    async () => {
      const list = await deliveries(room, webhook.id);
      return list.length === 2 && list.every((d) => d.status === "delivered") ? list : undefined;
    },
    "delivered after retries",
    30_000,
  );
  for (const delivery of log)
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 503, 204]);
  for (const [, n] of tries) expect(n).toBe(3);
  // Retried, not re-sent at once: the tries of one delivery are about a second apart.
  const one = receiver.at(path).filter((r) => r.headers["webhook-id"] === log[0]!.messageId);
  expect(one[1]!.at - one[0]!.at).toBeGreaterThanOrEqual(900);
  const current = await call<Webhook>(ada, "GET", `/api/rooms/${room}/webhooks/${webhook.id}`);
  expect(current.body.failuresInARow).toBe(0);
  expect(current.body.status).toBe("enabled");
});

it("dead-letters a delivery whose schedule is spent, and a replay delivers it with the same id", async () => {
  const room = await freshRoom(ada);
  const path = `/down-${room}`;
  let up = false;
  receiver.answer(path, () => (up ? 200 : 502));
  const { webhook } = await addWebhook(room, path);
  await post(room, "into the void");

  const [dead] = await waitUntil(
    async () => {
      const list = await deliveries(room, webhook.id);
      return list[0]?.status === "dead" ? list : undefined;
    },
    "dead-lettered",
    30_000,
  );
  expect(dead!.attempts.map((a) => a.status)).toEqual([502, 502, 502, 502]);

  up = true;
  const replayed = await call<Delivery>(
    ada,
    "POST",
    `/api/rooms/${room}/webhooks/${webhook.id}/deliveries/${dead!.id}/replay`,
  );
  expect(replayed.status).toBe(202);
  expect(replayed.body.status).toBe("pending");
  await waitUntil(async () => {
    const list = await deliveries(room, webhook.id);
    return list[0]?.status === "delivered" ? list : undefined;
  });
  const ids = receiver.at(path).map((r) => r.headers["webhook-id"]);
  expect(new Set(ids)).toEqual(new Set([dead!.messageId]));
  expect(ids).toHaveLength(5);
});

it("disables an endpoint that answers 410 Gone, and sends it nothing more until enabled", async () => {
  const room = await freshRoom(ada);
  const path = `/gone-${room}`;
  receiver.answer(path, () => 410);
  const { webhook } = await addWebhook(room, path);
  await post(room, "anyone there?");
  const disabled = await waitUntil(async () => {
    const current = await call<Webhook>(ada, "GET", `/api/rooms/${room}/webhooks/${webhook.id}`);
    return current.body.status === "disabled" ? current.body : undefined;
  });
  expect(disabled.disabledReason).toBe("gone");
  await post(room, "still there?");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(receiver.at(path)).toHaveLength(1);

  receiver.answer(path, () => 200);
  const enabled = await call<Webhook>(ada, "PATCH", `/api/rooms/${room}/webhooks/${webhook.id}`, {
    status: "enabled",
  });
  expect(enabled.body).toMatchObject({
    status: "enabled",
    disabledReason: null,
    failuresInARow: 0,
  });
  await post(room, "back again");
  await waitUntil(() => (receiver.at(path).length === 2 ? true : undefined));
});

it("rotates the secret with an overlap: both sign, each verifies alone", async () => {
  const room = await freshRoom(ada);
  const path = `/rotate-${room}`;
  const { webhook, secret: old } = await addWebhook(room, path);
  const rotated = await call<{ webhook: Webhook; secret: string }>(
    ada,
    "POST",
    `/api/rooms/${room}/webhooks/${webhook.id}/rotate-secret`,
    { overlapSeconds: 3600 },
  );
  expect(rotated.status).toBe(201);
  expect(rotated.body.webhook.secrets).toHaveLength(2);
  await post(room, "signed twice");
  const [request] = await waitUntil(() =>
    receiver.at(path).length ? receiver.at(path) : undefined,
  );
  expect(request!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
  new StandardWebhook(old).verify(request!.body, request!.headers);
  new StandardWebhook(rotated.body.secret).verify(request!.body, request!.headers);
  expect(() =>
    new StandardWebhook(`whsec_${btoa("x".repeat(32))}`).verify(request!.body, request!.headers),
  ).toThrow();

  // Without an overlap the old secret stops at once.
  const again = await call<{ secret: string }>(
    ada,
    "POST",
    `/api/rooms/${room}/webhooks/${webhook.id}/rotate-secret`,
    { overlapSeconds: 0 },
  );
  await post(room, "signed once");
  const second = await waitUntil(() => receiver.at(path)[1]);
  expect(second.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  new StandardWebhook(again.body.secret).verify(second.body, second.headers);
});

it("refuses private, loopback-looking and link-local URLs and non-owners", async () => {
  const room = await freshRoom(ada);
  for (const url of [
    "http://10.0.0.1/hook",
    "https://169.254.169.254/latest",
    "https://[fd00::1]/",
    "ftp://example.com/",
  ]) {
    const refused = await call<{ error: { code: string; message: string } }>(
      ada,
      "POST",
      `/api/rooms/${room}/webhooks`,
      { url, eventTypes: "*" },
    );
    expect(refused.status, url).toBe(400);
    expect(refused.body.error.message).toMatch(/^url: /);
  }
  const notOwner = await call(bob, "POST", `/api/rooms/${room}/webhooks`, {
    url: "https://example.com/hook",
    eventTypes: "*",
  });
  expect(notOwner.status).toBe(403);
  expect((await call(bob, "GET", `/api/rooms/${room}/webhooks`)).status).toBe(403);
  const badTypes = await call(ada, "POST", `/api/rooms/${room}/webhooks`, {
    url: "https://example.com/hook",
    eventTypes: ["message.exploded"],
  });
  expect(badTypes.status).toBe(400);
});

it("delivers a message committed just before the runtime was killed, once it is back", async () => {
  const room = await freshRoom(ada);
  const path = `/crash-${room}`;
  const { webhook } = await addWebhook(room, path);
  const { seq } = await post(room, "said just before the crash");
  // At once, before the feed's alarm (100 ms after the commit) has put it on the queue.
  await server.crash();
  const [request] = await waitUntil(
    () => (receiver.at(path).length ? receiver.at(path) : undefined),
    "delivered after the restart",
    30_000,
  );
  expect(WebhookPayload.parse(JSON.parse(request!.body)).data.event.seq).toBe(seq);
  const log = await deliveries(room, webhook.id);
  expect(log.map((d) => d.seq)).toEqual([seq]);
});

it("sends every room's events to an admin's instance-wide webhook, and audits each change", async () => {
  const root = new EdgechatApi(server.url);
  const rootToken = (await root.register("root", "root's password 1")).token;
  const admin = { ...ada, token: rootToken };
  const path = "/instance";
  const created = await call<{ webhook: Webhook; secret: string }>(
    admin,
    "POST",
    "/api/admin/webhooks",
    {
      url: receiver.url(path),
      eventTypes: ["room.created", "message.posted"],
    },
  );
  expect(created.status).toBe(201);
  expect(created.body.webhook.room).toBeUndefined();
  expect((await call(ada, "GET", "/api/admin/webhooks")).status).toBe(403);

  const [first, second] = [await freshRoom(ada), await freshRoom(bob)];
  await post(first, "in the first room");
  await bob.api.postMessage(second, { text: "in the second", clientId: crypto.randomUUID() });
  const got = await waitUntil(() =>
    receiver.at(path).length >= 4 ? receiver.at(path) : undefined,
  );
  const seen = got.map((request) => {
    new StandardWebhook(created.body.secret).verify(request.body, request.headers);
    const payload = WebhookPayload.parse(JSON.parse(request.body));
    return `${payload.data.room} ${payload.type}`;
  });
  expect(seen.sort()).toEqual(
    [
      `${first} room.created`,
      `${first} message.posted`,
      `${second} room.created`,
      `${second} message.posted`,
    ].sort(),
  );

  const audit = await call<{
    entries: { action: string; target: { room?: string }; data: Record<string, unknown> }[];
  }>(admin, "GET", "/api/admin/audit?action=webhook.created");
  const hosts = audit.body.entries.map((entry) => entry.data.host);
  expect(hosts.every((host) => typeof host === "string" && host.startsWith("127.0.0.1:"))).toBe(
    true,
  );
  expect(audit.body.entries.some((entry) => entry.target.room === undefined)).toBe(true);
  expect(JSON.stringify(audit.body)).not.toContain("whsec_");
});

it("pages the delivery log newest first, in the room's order, and refuses a made-up cursor", async () => {
  const room = await freshRoom(ada);
  const path = `/paged-${room}`;
  const { webhook } = await addWebhook(room, path);
  // Posted together: one commit batch, one queue message, deliveries made in the same instant.
  const seqs = (await Promise.all([1, 2, 3, 4, 5].map((n) => post(room, `burst ${n}`)))).map(
    (p) => p.seq,
  );
  await waitUntil(async () =>
    (await deliveries(room, webhook.id)).length === 5 ? true : undefined,
  );
  const pages: number[][] = [];
  let before: string | null = null;
  do {
    const query: string = `limit=2${before ? `&before=${before}` : ""}`;
    const page = await call<{ deliveries: Delivery[]; nextBefore: string | null }>(
      ada,
      "GET",
      `/api/rooms/${room}/webhooks/${webhook.id}/deliveries?${query}`,
    );
    pages.push(page.body.deliveries.map((d) => d.seq));
    before = page.body.nextBefore;
  } while (before);
  expect(pages.flat()).toEqual([...seqs].sort((a, b) => b - a));
  const bad = await call(
    ada,
    "GET",
    `/api/rooms/${room}/webhooks/${webhook.id}/deliveries?before=yesterday`,
  );
  expect(bad.status).toBe(400);
});

it("disables an endpoint whose every try failed for long enough, and skips what was queued for it", async () => {
  const room = await freshRoom(ada);
  const path = `/failing-${room}`;
  receiver.answer(path, () => 500);
  const { webhook } = await addWebhook(room, path);
  await post(room, "first");
  await post(room, "second");
  const disabled = await waitUntil(
    async () => {
      const current = await call<Webhook>(ada, "GET", `/api/rooms/${room}/webhooks/${webhook.id}`);
      return current.body.status === "disabled" ? current.body : undefined;
    },
    "disabled for failing",
    30_000,
  );
  expect(disabled.disabledReason).toBe("failing");
  expect(disabled.failuresInARow).toBeGreaterThanOrEqual(5);
  const log = await waitUntil(async () => {
    const list = await deliveries(room, webhook.id);
    return list.every((d) => d.status === "skipped" || d.status === "dead") ? list : undefined;
  });
  expect(log).toHaveLength(2);
  // Nothing new reaches a disabled endpoint.
  const tries = receiver.at(path).length;
  await post(room, "third");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(receiver.at(path)).toHaveLength(tries);
  expect(await deliveries(room, webhook.id)).toHaveLength(2);
});
