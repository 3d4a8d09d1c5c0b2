/**
 * Service accounts' API keys (docs/service-keys.md) against a real server: a key sees only the
 * rooms of its scope (any other answers `not_found`, byte for byte what a room never created
 * answers, on every way in: REST, the WebSocket, GraphQL) and takes only its scope's actions
 * (`forbidden`, naming the action); revoked, expired, forged and wrong keys are `unauthorized`,
 * all with one answer whatever was wrong before the secret matched; only admins reach
 * `/api/admin/services`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IssuedKey, Me, MessagesPage, type ServiceScope } from "../../src/protocol/index.ts";
import { parseServiceKey } from "../../src/identity/service-key.ts";
import {
  assertNoInvalidFrames,
  call,
  claimsOf,
  closeAll,
  createRoom,
  errorPart,
  expectError,
  withoutIds,
  expectUpgradeRefused,
  forge,
  post,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  sleep,
  startServer,
  upgrade,
  type TestServer,
  type Who,
} from "./helpers.ts";

let server: TestServer;
let root: Who; // the instance admin
let olga: Who; // owns the rooms
let nina: Who; // registered, not an admin
let fakeRoot: Who; // a guest who calls herself "root"
let poster: IssuedKey; // pub and priv: post and react, as a member
const pub = roomName("spub");
const priv = roomName("spriv");
const outside = roomName("sout"); // public, out of the key's scope
const hidden = roomName("shid"); // private, out of the key's scope
const ghost = roomName("sghost"); // never created
let olgaSeq = 0;

async function createService(name: string, scope: ServiceScope): Promise<IssuedKey> {
  const answer = await call(server.url, "POST", "/api/admin/services", {
    token: root.token,
    body: { name, scope },
  });
  expect(answer.status, answer.text).toBe(201);
  return IssuedKey.parse(answer.json);
}

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  const base = server.url;
  root = await register(base, "root");
  olga = await register(base, "solga");
  nina = await register(base, "snina");
  fakeRoot = await signInGuest(base, "root");
  await createRoom(base, olga, pub);
  await createRoom(base, olga, priv, "private");
  await createRoom(base, olga, outside);
  await createRoom(base, olga, hidden, "private");
  olgaSeq = await post(base, olga, pub, "hello bots", "solga-1");
  for (const room of [priv, outside, hidden]) await post(base, olga, room, "plans", "solga-2");
  poster = await createService("poster", {
    rooms: [pub, priv],
    actions: ["post", "react"],
    role: "member",
  });
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

type Way = { what: string; run: (room: string) => Promise<{ status: number; body: string }> };

/** Every way into a room with `token`, REST, WebSocket and GraphQL. */
function waysIn(token: string): Way[] {
  const base = server.url;
  const http = (method: string, path: string, body?: unknown) => async (room: string) => {
    const answer = await call(base, method, `/api/rooms/${room}${path}`, { token, body });
    return { status: answer.status, body: answer.text };
  };
  const tag = Math.random().toString(36).slice(2, 8);
  const cmd = (frame: Record<string, unknown>) => http("POST", "/commands", frame);
  const gql = (query: string) => async (room: string) => {
    const answer = await call(base, "POST", "/graphql", {
      token,
      body: { query, variables: { room } },
    });
    return { status: answer.status, body: answer.text };
  };
  return [
    { what: "GET room", run: http("GET", "") },
    { what: "GET events", run: http("GET", "/events?after=0&limit=100") },
    { what: "GET messages", run: http("GET", "/messages") },
    { what: "GET members", run: http("GET", "/members") },
    { what: "GET state", run: http("GET", "/state?at=1") },
    { what: "GET bans", run: http("GET", "/bans") },
    { what: "GET audit/verify", run: http("GET", "/audit/verify") },
    { what: "POST messages", run: http("POST", "/messages", { text: "hi", clientId: `${tag}-m` }) },
    { what: "POST commands post", run: cmd({ type: "post", clientId: `${tag}-p`, text: "hi" }) },
    { what: "POST commands topic", run: cmd({ type: "topic", clientId: `${tag}-t`, topic: "x" }) },
    { what: "POST commands leave", run: cmd({ type: "leave", clientId: `${tag}-l` }) },
    { what: "POST members (invite)", run: http("POST", "/members", { username: "snina" }) },
    { what: "WS upgrade", run: (room) => upgrade(base, room, token) },
    {
      what: "GraphQL room",
      run: gql("query($room: String!) { room(name: $room) { name topic } }"),
    },
    {
      what: "GraphQL postMessage",
      run: gql(
        `mutation($room: String!) { postMessage(room: $room, clientId: "${tag}-g", text: "hi") { seq } }`,
      ),
    },
  ];
}

describe("a key's scope of rooms", () => {
  it("makes every room outside it answer like a room never created, byte for byte", async () => {
    // Byte for byte but for the request's id, which every answer has its own of.
    const run = async (way: Way, room: string) => {
      const answer: { status: number; body: string; headers?: Record<string, unknown> } =
        await way.run(room);
      const { "x-request-id": _, ...headers } = answer.headers ?? {};
      return { ...answer, body: withoutIds(answer.body), ...(answer.headers && { headers }) };
    };
    for (const way of waysIn(poster.key.secret)) {
      const missing = await run(way, ghost);
      // GraphQL answers 200 with the error in its body, as for anyone.
      expect(missing.body, way.what).toContain("not_found");
      for (const room of [outside, hidden]) {
        const answer = await run(way, room);
        expect({ what: way.what, room, ...answer }, way.what).toEqual({
          what: way.what,
          room,
          ...missing,
        });
      }
    }
    // And nothing landed in them.
    for (const room of [outside, hidden]) {
      const page = await call(server.url, "GET", `/api/rooms/${room}/messages`, {
        token: olga.token,
      });
      expect(MessagesPage.parse(page.json).messages.map((m) => m.text)).toEqual(["plans"]);
    }
  });

  it("opens the rooms it names, a private one too, without membership", async () => {
    for (const room of [pub, priv]) {
      const read = await call(server.url, "GET", `/api/rooms/${room}/messages`, {
        token: poster.key.secret,
      });
      expect(read.status, read.text).toBe(200);
    }
    const seq = await post(server.url, { token: poster.key.secret } as Who, priv, "beep", "p-1");
    const events = await call(server.url, "GET", `/api/rooms/${priv}/events?after=${seq - 1}`, {
      token: olga.token,
    });
    // The event names the service as its actor; it did not join the room.
    expect(events.json).toMatchObject({
      events: [
        { type: "message.posted", actor: { id: poster.service.id, name: poster.service.name } },
      ],
    });
    const members = await call(server.url, "GET", `/api/rooms/${priv}/members`, {
      token: olga.token,
    });
    expect(members.text).not.toContain(poster.service.id);
  });
});

describe("a key's scope of actions", () => {
  it("refuses every action outside it with forbidden, naming it, and changes nothing", async () => {
    const key = poster.key.secret;
    const base = server.url;
    const refused = [
      { type: "topic", clientId: "x-t", topic: "pwned" },
      { type: "leave", clientId: "x-l" },
      { type: "delete", clientId: "x-d", messageId: olgaSeq },
      { type: "edit", clientId: "x-e", messageId: olgaSeq, text: "mine now" },
      { type: "kick", clientId: "x-k", userId: olga.user.id },
      { type: "undo", clientId: "x-u" },
    ];
    for (const frame of refused) {
      const answer = await call(base, "POST", `/api/rooms/${pub}/commands`, {
        token: key,
        body: frame,
      });
      expectError(answer, 403, "forbidden", frame.type);
      expect(answer.text).toContain(`scope does not include \\"${frame.type}\\"`);
    }
    // Powers a command carries are actions too: the bans list is list_bans.
    expectError(
      await call(base, "GET", `/api/rooms/${pub}/bans`, { token: key }),
      403,
      "forbidden",
      "bans",
    );
    // Inviting takes the invite action (and a moderator's rank).
    expectError(
      await call(base, "POST", `/api/rooms/${pub}/members`, {
        token: key,
        body: { username: "snina" },
      }),
      403,
      "forbidden",
      "invite",
    );
    // Over GraphQL, the same refusal.
    const gql = await call(base, "POST", "/graphql", {
      token: key,
      body: {
        query: `mutation($room: String!) { setTopic(room: $room, clientId: "g-t", topic: "x") { seq } }`,
        variables: { room: pub },
      },
    });
    expect(gql.json).toMatchObject({ errors: [{ extensions: { code: "forbidden" } }] });
    // In scope, it is applied.
    const reacted = await call(base, "POST", `/api/rooms/${pub}/commands`, {
      token: key,
      body: { type: "react", clientId: "x-r", messageId: olgaSeq, emoji: "🤖", on: true },
    });
    expect(reacted.status, reacted.text).toBe(201);
  });

  it("gives a moderator-role service what a moderator may do, never more", async () => {
    const mod = await createService("modbot", {
      rooms: [pub],
      actions: ["post", "delete", "delete_any", "kick", "list_bans"],
      role: "moderator",
    });
    const base = server.url;
    const key = mod.key.secret;
    const victimSeq = await post(base, nina, pub, "spam spam", "nina-spam");
    const deleted = await call(base, "POST", `/api/rooms/${pub}/commands`, {
      token: key,
      body: { type: "delete", clientId: "m-d", messageId: victimSeq },
    });
    expect(deleted.status, deleted.text).toBe(201);
    expect((await call(base, "GET", `/api/rooms/${pub}/bans`, { token: key })).status).toBe(200);
    // The owner is out of any moderator's reach.
    expectError(
      await call(base, "POST", `/api/rooms/${pub}/commands`, {
        token: key,
        body: { type: "kick", clientId: "m-k", userId: olga.user.id },
      }),
      403,
      "forbidden",
      "kick the owner",
    );
    // A scope cannot hold an owner's action.
    const owner = await call(base, "POST", "/api/admin/services", {
      token: root.token,
      body: { name: "ownerbot", scope: { rooms: "*", actions: ["transfer"], role: "moderator" } },
    });
    expectError(owner, 400, "bad_request", "owner's action");
    expect(owner.text).toContain("transfer");
    // Nor can a service create a room (its creator would own it).
    expectError(
      await call(base, "POST", "/api/rooms", { token: key, body: { name: roomName("sbot") } }),
      403,
      "forbidden",
      "create room",
    );
  });
});

describe("keys that do not verify", () => {
  it("answers a forged id, a wrong secret and a malformed key alike: 401, one message", async () => {
    const base = server.url;
    const { keyId, secret } = parseServiceKey(poster.key.secret)!;
    const flip = (s: string) => `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
    const wrong = [
      `ecsk_${keyId}_${flip(secret)}`, // wrong secret
      `ecsk_${"f".repeat(16)}_${secret}`, // unknown id, a real secret
      `ecsk_${keyId.slice(0, 15)}_${secret}`, // malformed
      `ecsk_${keyId}_${secret}x`,
      "ecsk_",
    ];
    const answers = await Promise.all(
      wrong.map((key) => call(base, "GET", `/api/rooms/${pub}/messages`, { token: key })),
    );
    for (const [i, answer] of answers.entries()) {
      expectError(answer, 401, "unauthorized", wrong[i]);
      // One answer for all: the same code and message (each with its own request id).
      expect(errorPart(answer.json)).toEqual(errorPart(answers[0]!.json));
    }
    for (const key of wrong.slice(0, 2))
      expectUpgradeRefused(await upgrade(base, pub, key), 401, "unauthorized", key);
  });

  it("never lets a signed token claim to be a service", async () => {
    const claims = claimsOf(nina.token);
    const token = await forge({ ...claims, sub: poster.service.id, kind: "service" });
    expectError(
      await call(server.url, "GET", `/api/rooms/${pub}/messages`, { token }),
      401,
      "unauthorized",
      "a JWT of kind service",
    );
  });

  it("refuses a revoked key at once, everywhere", async () => {
    const base = server.url;
    const doomed = await createService("doomed", {
      rooms: [pub],
      actions: ["post"],
      role: "member",
    });
    const key = doomed.key.secret;
    expect((await call(base, "GET", `/api/rooms/${pub}`, { token: key })).status).toBe(200);
    const revoked = await call(
      base,
      "DELETE",
      `/api/admin/services/${doomed.service.id}/keys/${doomed.key.id}`,
      { token: root.token },
    );
    expect(revoked.status, revoked.text).toBe(200);
    expectError(await call(base, "GET", `/api/rooms/${pub}`, { token: key }), 401, "unauthorized");
    expectError(
      await call(base, "POST", `/api/rooms/${pub}/messages`, {
        token: key,
        body: { text: "still here?", clientId: "d-1" },
      }),
      401,
      "unauthorized",
    );
    expectUpgradeRefused(await upgrade(base, pub, key), 401, "unauthorized");
    const gql = await call(base, "POST", "/graphql", {
      token: key,
      body: { query: "{ me { id } }" },
    });
    expect(gql.json).toMatchObject({ errors: [{ extensions: { code: "unauthorized" } }] });
  });

  it("refuses a rotated key once its overlap is over", async () => {
    const base = server.url;
    const old = await createService("rotor", { rooms: [pub], actions: ["post"], role: "member" });
    const rotated = await call(
      base,
      "POST",
      `/api/admin/services/${old.service.id}/keys/${old.key.id}/rotate`,
      { token: root.token, body: { overlapSeconds: 1 } },
    );
    expect(rotated.status, rotated.text).toBe(201);
    const next = IssuedKey.parse(rotated.json);
    const expiresAt = next.service.keys.find((k) => k.id === old.key.id)!.expiresAt!;
    // Waiting on time is the point: a second of overlap, then the key must be refused.
    await sleep(Math.max(0, expiresAt - Date.now()) + 50);
    expectError(
      await call(base, "GET", `/api/rooms/${pub}`, { token: old.key.secret }),
      401,
      "unauthorized",
      "expired key",
    );
    expect((await call(base, "GET", `/api/rooms/${pub}`, { token: next.key.secret })).status).toBe(
      200,
    );
  });
});

describe("the admin API", () => {
  it("is out of reach of everyone but admins, services included", async () => {
    const base = server.url;
    const id = poster.service.id;
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/admin/services"],
      [
        "POST",
        "/api/admin/services",
        { name: "evil", scope: { rooms: "*", actions: ["post"], role: "member" } },
      ],
      ["GET", `/api/admin/services/${id}`],
      [
        "PATCH",
        `/api/admin/services/${id}`,
        { scope: { rooms: "*", actions: ["post"], role: "member" } },
      ],
      ["POST", `/api/admin/services/${id}/disable`],
      ["POST", `/api/admin/services/${id}/keys`],
      ["POST", `/api/admin/services/${id}/keys/${poster.key.id}/rotate`, {}],
      ["DELETE", `/api/admin/services/${id}/keys/${poster.key.id}`],
      // The instance's rules (docs/automation.md, "Instance rules").
      ["GET", "/api/admin/rules"],
      ["POST", "/api/admin/rules", INSTANCE_RULE],
      ["PUT", "/api/admin/rules/rl_00000000000000e1", INSTANCE_RULE],
      ["DELETE", "/api/admin/rules/rl_00000000000000e1"],
      ["POST", "/api/admin/rules/dry-run", { rule: INSTANCE_RULE, room: "general" }],
    ];
    for (const [method, path, body] of routes) {
      for (const who of [nina.token, fakeRoot.token, poster.key.secret])
        expectError(
          await call(base, method, path, { token: who, body }),
          403,
          "forbidden",
          `${method} ${path}`,
        );
      expectError(
        await call(base, method, path, { body }),
        401,
        "unauthorized",
        `${method} ${path}`,
      );
    }
    // Nothing changed: the poster's key still works, and it is still the only one.
    const me = await call(base, "GET", "/api/auth/me", { token: poster.key.secret });
    expect(Me.parse(me.json)).toEqual({
      id: poster.service.id,
      name: "poster",
      kind: "service",
      admin: false,
    });
    const listed = await call(base, "GET", `/api/admin/services/${id}`, { token: root.token });
    expect(listed.json).toMatchObject({
      disabledAt: null,
      keys: [{ id: poster.key.id, status: "active" }],
    });
    const rules = await call(base, "GET", "/api/admin/rules", { token: root.token });
    expect(rules.json).toMatchObject({ rules: [] });
  });
});

/** A rule the routes would take from an admin: refused here for who asks, never for what. */
const INSTANCE_RULE = {
  name: "Everywhere",
  trigger: { on: "message", match: { keywords: ["incident"] } },
  actions: [{ do: "post", text: "see the runbook" }],
};
