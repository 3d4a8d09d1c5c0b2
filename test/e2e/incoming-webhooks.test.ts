/**
 * Incoming webhooks end to end (docs/integrations.md): a room's owner makes a secret URL; a CI
 * system posts Slack-compatible JSON (or a `payload=` form) to it and the message appears as the
 * hook's bot (kind service); bad bodies get the contract's 400, a wrong or revoked URL 404, an
 * oversized body 413, a flood 429; an Idempotency-Key makes a retried post land once. The SDK's
 * calls (`api.incomingWebhooks(room)`: list, create, revoke) against the same worker.
 */
import { describe, expect, it } from "vitest";
import { ApiError, EdgechatApi, MAX_INCOMING_HOOKS } from "../../src/client/index.ts";
import type { IssuedIncomingHook, RoomEvent } from "../../src/protocol/index.ts";
import { freshRoom, signIn, useServer, type Guest, type TestServer } from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let root: EdgechatApi;

useServer(
  async (started) => {
    server = started;
    [ada, bob] = await signIn(server, "ada", "bob");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  // A small command budget, so that a flood runs out of it quickly.
  {
    vars: { LIMIT_COMMANDS_PER_SECOND: "2", LIMIT_COMMANDS_BURST: "8", ADMIN_USERNAMES: "root" },
  },
);

async function makeHook(room: string, name = "CI", token = ada.token): Promise<IssuedIncomingHook> {
  const response = await fetch(`${server.url}/api/rooms/${room}/incoming-webhooks`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as IssuedIncomingHook;
}

const send = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

async function posted(room: string): Promise<Extract<RoomEvent, { type: "message.posted" }>[]> {
  const page = await ada.api.events(room, 0, 1000);
  return page.events.filter(
    (e): e is Extract<RoomEvent, { type: "message.posted" }> => e.type === "message.posted",
  );
}

it("posts a Slack-style build result as the hook's bot", async () => {
  const room = await freshRoom(ada);
  const { hook, url } = await makeHook(room, "Build bot");
  expect(url).toBe(`${server.url}/api/hooks/${room}/${hook.id}/${url.split("/").at(-1)}`);
  const response = await send(
    url,
    JSON.stringify({
      text: "fallback",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Build #42 passed" } },
        {
          type: "section",
          text: { type: "mrkdwn", text: "See <https://ci.example/42|the logs> &amp; artifacts" },
        },
      ],
      attachments: [{ color: "good", title: "main", text: "3 jobs, 0 failures" }],
    }),
  );
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("ok");
  const [message] = await posted(room);
  expect(message!.actor).toEqual({ id: hook.botId, name: "Build bot" });
  expect(hook.botId).toMatch(/^svc_[0-9a-f]{32}$/);
  expect(message!.data.text).toContain("Build #42 passed");
  expect(message!.data.text).toContain("the logs (https://ci.example/42) & artifacts");
  expect(message!.data.text).toContain("3 jobs, 0 failures");
});

it("takes a payload= form, and the body's username", async () => {
  const room = await freshRoom(ada);
  const { hook, url } = await makeHook(room);
  const form = new URLSearchParams({
    payload: JSON.stringify({ text: "from a form", username: "Jenkins" }),
  });
  const response = await fetch(url, { method: "POST", body: form });
  expect(response.status).toBe(200);
  const [message] = await posted(room);
  expect(message!.actor).toEqual({ id: hook.botId, name: "Jenkins" });
  expect(message!.data.text).toBe("from a form");
});

it("answers bad bodies with the contract's 400, and wrong or revoked URLs with 404", async () => {
  const room = await freshRoom(ada);
  const { hook, url } = await makeHook(room);
  const cases: [string, Record<string, string>, RegExp][] = [
    ["{", {}, /not valid JSON/],
    [JSON.stringify({ text: "" }), {}, /no_text/],
    [JSON.stringify({ text: 42 }), {}, /invalid_body/],
    ["[1,2]", {}, /invalid_body/],
    ["text=hi", { "content-type": "text/plain" }, /content type/],
  ];
  for (const [body, headers, message] of cases) {
    const response = await send(url, body, headers);
    expect(response.status, body).toBe(400);
    const error = (await response.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("bad_request");
    expect(error.error.message).toMatch(message);
  }
  const wrongSecret = url.replace(/[^/]{43}$/, "A".repeat(43));
  expect((await send(wrongSecret, '{"text":"x"}')).status).toBe(404);
  expect(
    (await send(`${server.url}/api/hooks/${room}/${hook.id}/short`, '{"text":"x"}')).status,
  ).toBe(404);
  const huge = JSON.stringify({ text: "x".repeat(70 * 1024) });
  expect((await send(url, huge)).status).toBe(413);

  const revoked = await fetch(`${server.url}/api/rooms/${room}/incoming-webhooks/${hook.id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${ada.token}` },
  });
  expect(((await revoked.json()) as { revokedAt: number | null }).revokedAt).not.toBeNull();
  expect((await send(url, '{"text":"after revoke"}')).status).toBe(404);
  expect(await posted(room)).toHaveLength(0);
});

it("posts a retried request with the same Idempotency-Key once", async () => {
  const room = await freshRoom(ada);
  const { url } = await makeHook(room);
  for (let i = 0; i < 3; i++)
    expect(
      (await send(url, '{"text":"deploy 7 done"}', { "idempotency-key": "deploy-7" })).status,
    ).toBe(200);
  expect(await posted(room)).toHaveLength(1);
});

it("rate limits the hook's bot like everyone (429 with Retry-After)", async () => {
  const room = await freshRoom(ada);
  const { url } = await makeHook(room);
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 20; i++) {
    const response = await send(url, JSON.stringify({ text: `flood ${i}` }));
    statuses.push(response.status);
    if (response.status === 429) retryAfter ??= response.headers.get("retry-after");
  }
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(8);
  expect(statuses).toContain(429);
  expect(Number(retryAfter)).toBeGreaterThan(0);
});

it("is for the room's owner to manage, and works in a private room", async () => {
  const room = await freshRoom(ada);
  const asBob = (method: string, body?: unknown) =>
    fetch(`${server.url}/api/rooms/${room}/incoming-webhooks`, {
      method,
      headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  expect((await asBob("POST", { name: "mine" })).status).toBe(403);
  expect((await asBob("GET")).status).toBe(403);

  // Guests cannot make private rooms: a registered owner does.
  const cy = new EdgechatApi(server.url);
  const cyToken = (await cy.register(`cy${crypto.randomUUID().slice(0, 6)}`, "cy's password 123"))
    .token;
  const secret = `p-${crypto.randomUUID().slice(0, 8)}`;
  await cy.withToken(cyToken).createRoom({ name: secret, visibility: "private" });
  const { url } = await makeHook(secret, "CI", cyToken);
  expect((await send(url, '{"text":"quietly"}')).status).toBe(200);
  const events = await cy.withToken(cyToken).events(secret, 0, 100);
  expect(events.events.filter((e) => e.type === "message.posted").map((e) => e.data)).toEqual([
    { text: "quietly" },
  ]);
  const stranger = await fetch(`${server.url}/api/rooms/${secret}/incoming-webhooks`, {
    headers: { authorization: `Bearer ${bob.token}` },
  });
  expect(stranger.status).toBe(404);
});

/** The refusal a call ends with, as the SDK throws it. */
async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("the SDK's calls (api.incomingWebhooks(room))", () => {
  it("creates a hook whose URL posts, lists it with its last use, and revokes it", async () => {
    const room = await freshRoom(ada);
    const hooks = ada.api.incomingWebhooks(room);
    expect(await hooks.list()).toEqual({ hooks: [] });

    const before = Date.now();
    const { hook, url } = await hooks.create({ name: "  Deploys  " });
    expect(hook).toEqual({
      id: expect.stringMatching(/^ih_[0-9a-f]{24}$/),
      room,
      name: "Deploys",
      botId: expect.stringMatching(/^svc_[0-9a-f]{32}$/),
      createdBy: { id: ada.user.id, name: "ada" },
      createdAt: expect.any(Number),
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(hook.createdAt).toBeGreaterThanOrEqual(before - 5_000);
    const secret = url.split("/").at(-1)!;
    expect(url).toBe(`${server.url}/api/hooks/${room}/${hook.id}/${secret}`);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The list never holds the URL: not in the parsed answer, nor anywhere in the raw one.
    const raw = await fetch(`${server.url}/api/rooms/${room}/incoming-webhooks`, {
      headers: { authorization: `Bearer ${ada.token}` },
    }).then((r) => r.text());
    expect(raw).not.toContain(secret);
    expect((await hooks.list()).hooks).toEqual([hook]);

    expect((await send(url, JSON.stringify({ text: "v1.2 is live", username: "CI" }))).status).toBe(
      200,
    );
    const [message] = await posted(room);
    expect(message!.actor).toEqual({ id: hook.botId, name: "CI" });
    const [used] = (await hooks.list()).hooks;
    expect(used!.lastUsedAt).toBeGreaterThanOrEqual(hook.createdAt);

    const revoked = await hooks.revoke(hook.id);
    expect(revoked).toEqual({ ...used, revokedAt: expect.any(Number) });
    expect((await send(url, '{"text":"after revoke"}')).status).toBe(404);
    // Revoked hooks stay listed; revoking again changes nothing.
    expect((await hooks.list()).hooks).toEqual([revoked]);
    expect(await hooks.revoke(hook.id)).toEqual(revoked);
    expect(await posted(room)).toHaveLength(1);
  });

  it("lets an admin manage any room's hooks, and lists them oldest first", async () => {
    const room = await freshRoom(ada);
    const { hook: first } = await ada.api.incomingWebhooks(room).create({ name: "first" });
    const asRoot = root.incomingWebhooks(room);
    const { hook: second } = await asRoot.create({ name: "second" });
    expect(second.createdBy.name).toBe("root");
    expect((await asRoot.list()).hooks.map((h) => h.id)).toEqual([first.id, second.id]);
    expect((await asRoot.revoke(first.id)).revokedAt).not.toBeNull();
  });

  it("refuses others and bad input with the contract's errors", async () => {
    const room = await freshRoom(ada);
    const hooks = ada.api.incomingWebhooks(room);
    const { hook } = await hooks.create({ name: "CI" });

    const asBob = bob.api.incomingWebhooks(room);
    const calls = [
      () => asBob.list(),
      () => asBob.create({ name: "mine" }),
      () => asBob.revoke(hook.id),
    ];
    for (const call of calls) {
      const error = await refusal(call());
      expect([error.code, error.status]).toEqual(["forbidden", 403]);
    }
    expect((await refusal(new EdgechatApi(server.url).incomingWebhooks(room).list())).status).toBe(
      401,
    );

    for (const name of ["", "   ", "x".repeat(81)]) {
      const error = await refusal(hooks.create({ name }));
      expect([error.code, error.status], JSON.stringify(name)).toEqual(["bad_request", 400]);
      expect(error.message).toMatch(/1 to 80 characters/);
    }
    const unknown = await refusal(hooks.revoke(`ih_${"0".repeat(24)}`));
    expect([unknown.code, unknown.status]).toEqual(["not_found", 404]);
    const malformed = await refusal(hooks.revoke("wh_nothing"));
    expect([malformed.code, malformed.status]).toEqual(["bad_request", 400]);
    const noRoom = await refusal(ada.api.incomingWebhooks(`${room}-gone`).list());
    expect(noRoom.code).toBe("not_found");
    expect((await hooks.list()).hooks).toEqual([hook]);
  });

  it(`holds ${MAX_INCOMING_HOOKS} working hooks a room; a revoked one frees its place`, async () => {
    const room = await freshRoom(ada);
    const hooks = ada.api.incomingWebhooks(room);
    const made = [];
    for (let i = 0; i < MAX_INCOMING_HOOKS; i++)
      made.push((await hooks.create({ name: `h${i}` })).hook);
    const full = await refusal(hooks.create({ name: "one more" }));
    expect([full.code, full.status]).toEqual(["conflict", 409]);
    expect(full.message).toMatch(/at most 20/);
    await hooks.revoke(made[0]!.id);
    const { hook } = await hooks.create({ name: "one more" });
    expect((await hooks.list()).hooks).toHaveLength(MAX_INCOMING_HOOKS + 1);
    expect((await hooks.list()).hooks.at(-1)).toEqual(hook);
  });
});
