/**
 * Users' own bots end to end (docs/integrations.md, "Bots"), against the real worker: a
 * registered user makes a bot for a room they own through the SDK (`api.bots`), its key posts
 * over REST and the WebSocket as the bot (a service), it is held to the room's command budget
 * like anyone, to its scope's rooms (404) and actions (403); nobody else sees or touches it
 * (404); guests and bots cannot make bots (403); the 11th is 409; a room the user does not own
 * is 403 at creation and on PATCH; deleting it closes its sockets (4401); a room handed over
 * keeps the bot until its new owner bans it; every change is in the instance audit log.
 */
import { expect, it } from "vitest";
import { ApiError, EdgechatApi, type IssuedKey } from "../../src/client/index.ts";
import { BOTS_PER_USER_MAX, CLOSE, type BotScope } from "../../src/protocol/index.ts";
import { closeFrameCode } from "../security/helpers.ts";
import { rawConnect, roomName, useServer, waitUntil, type TestServer } from "./helpers.ts";

/** The room's command budget, low: a burst of 6, then one a second (docs/limits.md). */
const BURST = 6;

let server: TestServer;
let root: EdgechatApi; // an instance admin, to read the audit log
let olga: EdgechatApi; // owns rooms and makes bots
let olgaId: string;
let nina: EdgechatApi; // another registered user
let ninaId: string;

useServer(
  async (started) => {
    server = started;
    const api = new EdgechatApi(server.url);
    const signUp = async (name: string) => {
      const session = await api.register(name, `${name}'s password 1`);
      return [api.withToken(session.token), session.user.id] as const;
    };
    [root] = await signUp("root");
    [olga, olgaId] = await signUp("olga");
    [nina, ninaId] = await signUp("nina");
  },
  {
    vars: {
      ADMIN_USERNAMES: "root",
      LIMIT_COMMANDS_BURST: String(BURST),
      LIMIT_COMMANDS_PER_SECOND: "1",
    },
  },
);

const SCOPE: Omit<BotScope, "rooms"> = { actions: ["post", "react"], role: "member" };
let made = 0;

async function roomOf(owner: EdgechatApi, visibility: "public" | "private" = "public") {
  const name = roomName("bot");
  await owner.createRoom({ name, visibility });
  return name;
}

function botFor(owner: EdgechatApi, rooms: string[]): Promise<IssuedKey> {
  made += 1;
  return owner.bots.create({ name: `bot-${made}`, scope: { rooms, ...SCOPE } });
}

/** The refusal of a call that must fail: its status, code and message. */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return { status: error.status, code: error.code, message: error.message };
}

it("a user's bot posts in their room over REST and the WebSocket, as a service", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  expect(issued.service.owner).toEqual({ id: olgaId, name: "olga" });
  expect(issued.service.id).toMatch(/^svc_/);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  expect(await bot.me()).toEqual({
    id: issued.service.id,
    name: issued.service.name,
    kind: "service",
    admin: false,
  });

  const watcher = await rawConnect(server.url, room, olga.token!);
  const { seq } = await bot.postMessage(room, { text: "build 7 passed", clientId: "rest-1" });
  const socket = await rawConnect(server.url, room, issued.key.secret);
  socket.sendJson({ type: "post", clientId: "ws-1", text: "build 8 passed" });
  const ack = await socket.nth("ack", 1);
  await waitUntil(() => watcher.of("event").some((f) => f.event.seq === ack.seq), "the ws post");
  const posted = watcher
    .of("event")
    .map((f) => f.event)
    .filter((e) => e.type === "message.posted");
  const actor = { id: issued.service.id, name: issued.service.name };
  expect(posted.map((e) => [e.seq, e.actor, e.data])).toEqual([
    [seq, actor, { text: "build 7 passed" }],
    [ack.seq, actor, { text: "build 8 passed" }],
  ]);
  // Its owner sees it in their list, with its keys' last use; a bot never joins the room.
  const { bots, max } = await olga.bots.list();
  expect(max).toBe(BOTS_PER_USER_MAX);
  expect(bots.find((b) => b.id === issued.service.id)?.keys[0]?.lastUsedAt).toEqual(
    expect.any(Number),
  );
  expect((await olga.members(room)).members.map((m) => m.id)).not.toContain(issued.service.id);
});

it("is held to the room's command budget like anyone, counted by its id", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  const answers = await Promise.all(
    Array.from({ length: BURST + 4 }, (_, i) =>
      bot.postMessage(room, { text: `spam ${i}`, clientId: `spam-${i}` }).then(
        () => "ok",
        (e: unknown) => (e instanceof ApiError ? `${e.status} ${e.code} ${e.retryAfter}` : "?"),
      ),
    ),
  );
  const limited = answers.filter((a) => a !== "ok");
  expect(answers.filter((a) => a === "ok").length).toBeGreaterThanOrEqual(BURST - 1);
  expect(limited.length).toBeGreaterThanOrEqual(3);
  for (const answer of limited) expect(answer).toMatch(/^429 rate_limited \d+$/);
  // The budget is the bot's own: its owner posts there all the same.
  expect(
    (await olga.postMessage(room, { text: "me too", clientId: "olga-1" })).seq,
  ).toBeGreaterThan(0);
});

it("acts only in its scope: another room is 404, another action 403", async () => {
  const room = await roomOf(olga);
  const other = await roomOf(olga);
  const secret = await roomOf(olga, "private");
  const issued = await botFor(olga, [room]);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  for (const elsewhere of [other, secret, roomName("never")])
    expect(
      await refusal(bot.postMessage(elsewhere, { text: "hi", clientId: "out" })),
    ).toMatchObject({ status: 404, code: "not_found", message: "no such room" });
  expect(
    await refusal(bot.command(room, { type: "topic", clientId: "t", topic: "taken over" })),
  ).toEqual({
    status: 403,
    code: "forbidden",
    message: `this service's scope does not include "topic"`,
  });
  const socket = await rawConnect(server.url, room, issued.key.secret);
  socket.sendJson({ type: "kick", clientId: "k", userId: olgaId });
  expect(await socket.nth("error", 1)).toMatchObject({ code: "forbidden", clientId: "k" });
  expect((await olga.getRoom(room)).topic).toBe("");
});

it("is its owner's alone: anyone else gets 404 on every route, as for a bot that does not exist", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  const id = issued.service.id;
  const keyId = issued.key.id;
  const missing = `svc_${"0".repeat(32)}`;
  const tries = (api: EdgechatApi, bot: string) => [
    api.bots.get(bot),
    api.bots.setScope(bot, { rooms: [room], ...SCOPE }),
    api.bots.setDisabled(bot, true),
    api.bots.setDisabled(bot, false),
    api.bots.addKey(bot),
    api.bots.rotateKey(bot, keyId, 0),
    api.bots.revokeKey(bot, keyId),
    api.bots.delete(bot),
  ];
  const theirs = await Promise.all(tries(nina, id).map(refusal));
  const nobodys = await Promise.all(tries(nina, missing).map(refusal));
  for (const answer of theirs)
    expect(answer).toEqual({ status: 404, code: "not_found", message: "no such service account" });
  expect(theirs).toEqual(nobodys);
  expect((await nina.bots.list()).bots).toEqual([]);
  // Untouched: still enabled, its key still works.
  const mine = await olga.bots.get(id);
  expect(mine.disabledAt).toBeNull();
  expect(mine.keys.map((k) => k.status)).toEqual(["active"]);
});

it("is for registered users: guests and bots get 403, no token 401", async () => {
  const guestSession = await new EdgechatApi(server.url).signInGuest("gus");
  const guest = new EdgechatApi(server.url, guestSession.token);
  const room = await roomOf(guest);
  const body = { name: "guestbot", scope: { rooms: [room], ...SCOPE } };
  expect(await refusal(guest.bots.create(body))).toEqual({
    status: 403,
    code: "forbidden",
    message: "bots are for registered users: guests cannot have them",
  });
  expect(await refusal(guest.bots.list())).toMatchObject({ status: 403 });
  const owned = await roomOf(olga);
  const issued = await botFor(olga, [owned]);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  expect(await refusal(bot.bots.create({ ...body, scope: { rooms: [owned], ...SCOPE } }))).toEqual({
    status: 403,
    code: "forbidden",
    message: "a service account cannot have bots",
  });
  expect(await refusal(bot.bots.get(issued.service.id))).toMatchObject({ status: 403 });
  expect(await refusal(new EdgechatApi(server.url).bots.list())).toMatchObject({ status: 401 });
});

it("may be given only rooms its owner owns, at creation and on PATCH, in one answer for all", async () => {
  const mine = await roomOf(olga);
  const hers = await roomOf(nina);
  const hersPrivate = await roomOf(nina, "private");
  const never = roomName("never");
  const words = (room: string) => ({
    status: 403,
    code: "forbidden",
    message: `"${room}" is not a room you own: a bot may be given only rooms you own`,
  });
  // A room where she is a moderator is not hers either.
  await nina.invite(hers, "olga", "moderator");
  for (const room of [hers, hersPrivate, never])
    expect(await refusal(botFor(olga, [mine, room]))).toEqual(words(room));
  expect(await refusal(botFor(olga, "*" as unknown as string[]))).toMatchObject({
    status: 400,
    code: "bad_request",
    message: `scope.rooms: a bot names its rooms one by one: "*" (every room) is for admins' services`,
  });
  const issued = await botFor(olga, [mine]);
  for (const room of [hers, hersPrivate, never])
    expect(
      await refusal(olga.bots.setScope(issued.service.id, { rooms: [mine, room], ...SCOPE })),
    ).toEqual(words(room));
  // Moderator's powers are hers to give in her own rooms.
  const moderating = await olga.bots.setScope(issued.service.id, {
    rooms: [mine],
    actions: ["post", "delete_any", "kick"],
    role: "moderator",
  });
  expect(moderating.scope).toEqual({
    rooms: [mine],
    actions: ["post", "delete_any", "kick"],
    role: "moderator",
  });
});

it(`allows ${BOTS_PER_USER_MAX} bots per user: the next is 409 until one is deleted`, async () => {
  const api = new EdgechatApi(server.url);
  const session = await api.register("busy", "busy's password 1");
  const busy = api.withToken(session.token);
  const room = await roomOf(busy);
  const first = await botFor(busy, [room]);
  for (let i = 1; i < BOTS_PER_USER_MAX; i++) await botFor(busy, [room]);
  expect(await refusal(botFor(busy, [room]))).toEqual({
    status: 409,
    code: "conflict",
    message: `a user may have at most ${BOTS_PER_USER_MAX} bots: delete one first`,
  });
  expect((await busy.bots.list()).bots).toHaveLength(BOTS_PER_USER_MAX);
  await busy.bots.delete(first.service.id);
  expect((await botFor(busy, [room])).service.owner.name).toBe("busy");
});

it("deleting a bot closes its sockets (4401) and refuses its keys", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  const second = await olga.bots.addKey(issued.service.id);
  const sockets = [
    await rawConnect(server.url, room, issued.key.secret),
    await rawConnect(server.url, room, second.key.secret),
  ];
  await olga.bots.delete(issued.service.id);
  for (const socket of sockets) expect(await closeFrameCode(socket)).toBe(CLOSE.tokenRevoked);
  for (const key of [issued.key.secret, second.key.secret])
    expect(
      await refusal(
        new EdgechatApi(server.url, key).postMessage(room, { text: "x", clientId: "x" }),
      ),
    ).toMatchObject({ status: 401, message: "the service key is invalid" });
  expect(await refusal(olga.bots.get(issued.service.id))).toMatchObject({ status: 404 });
});

it("keeps its scope when its owner hands the room over, until the new owner bans it", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  await nina.postMessage(room, { text: "hello", clientId: "nina-1" }); // she joins
  await olga.command(room, { type: "transfer", clientId: "hand-over", userId: ninaId });
  // The scope stays until edited: the bot still posts.
  expect(
    (await bot.postMessage(room, { text: "still here", clientId: "after-1" })).seq,
  ).toBeGreaterThan(0);
  // But olga may not give it the room again, nor keep it in an edited scope.
  expect(
    await refusal(olga.bots.setScope(issued.service.id, { rooms: [room], ...SCOPE })),
  ).toMatchObject({ status: 403, code: "forbidden" });
  // The new owner bans the bot as anyone: its socket closes (4403), its posts are refused.
  const socket = await rawConnect(server.url, room, issued.key.secret);
  await nina.command(room, { type: "ban", clientId: "ban-bot", userId: issued.service.id });
  expect(await closeFrameCode(socket)).toBe(CLOSE.removed);
  expect(await refusal(bot.postMessage(room, { text: "let me in", clientId: "after-2" }))).toEqual({
    status: 403,
    code: "forbidden",
    message: "you are banned from this room",
  });
  expect((await nina.bans(room)).bans.map((b) => b.id)).toContain(issued.service.id);
});

it("records every change its owner makes in the instance audit log, never a secret", async () => {
  const room = await roomOf(olga);
  const issued = await botFor(olga, [room]);
  const id = issued.service.id;
  await olga.bots.setScope(id, { rooms: [room], actions: ["post"], role: "member" });
  await olga.bots.setDisabled(id, true);
  await olga.bots.setDisabled(id, false);
  const added = await olga.bots.addKey(id);
  const rotated = await olga.bots.rotateKey(id, added.key.id, 60);
  await olga.bots.revokeKey(id, rotated.key.id);
  await olga.bots.delete(id);
  const entries = await waitUntil(async () => {
    const page = await root.admin.auditLog({ actor: olgaId, limit: 200 });
    const mine = page.entries.filter((e) => e.target.user === id);
    return mine.length === 8 ? mine : undefined;
  }, "the bot's eight entries");
  expect(entries.map((e) => e.action).reverse()).toEqual([
    "service.created",
    "service.scope_changed",
    "service.disabled",
    "service.enabled",
    "service.key_created",
    "service.key_rotated",
    "service.key_revoked",
    "service.deleted",
  ]);
  for (const entry of entries) {
    expect(entry.actor).toEqual({ id: olgaId, name: "olga" });
    expect(entry.data.service).toBe(issued.service.name);
  }
  const text = JSON.stringify(entries);
  for (const key of [issued.key.secret, added.key.secret, rotated.key.secret])
    expect(text).not.toContain(key.slice(-43));
  // Admins see every bot with its owner; nina's list stays empty.
  const other = await botFor(olga, [room]);
  const { services } = await root.admin.services();
  expect(services.find((s) => s.id === other.service.id)?.owner).toEqual({
    id: olgaId,
    name: "olga",
  });
});
