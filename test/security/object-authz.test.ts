/**
 * Broken object-level authorization: a private room does not exist for anyone outside it (404,
 * byte for byte the answer for a room that was never created) on every endpoint and the
 * WebSocket; a public room refuses banned users with 403; kicked and banned members' sockets are
 * closed with 4403; an instance admin may read and moderate any room.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BanList, CLOSE, RoomList, SUBPROTOCOL, BEARER_PREFIX } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  closeFrameCode,
  command,
  createRoom,
  expectError,
  expectUnchanged,
  handled,
  expectUpgradeRefused,
  invite,
  post,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  snapshot,
  startServer,
  tryUpgrade,
  upgrade,
  wsUrl,
  type Answer,
  type TestServer,
  type Who,
  refusedCommand,
  withoutIds,
} from "./helpers.ts";
import { ROOM_QUERY_ROUTES } from "./contract.ts";

let server: TestServer;
let olga: Who; // owner
let kim: Who; // member, then kicked
let bart: Who; // member, then banned
let nina: Who; // registered, never a member
let gus: Who; // a guest, never a member
let fakeRoot: Who; // a guest who calls herself "root"
let root: Who; // the instance admin
const priv = roomName("priv");
const ghost = roomName("ghost");
const seqOf: Record<string, number> = {};
/** A rule as the contract requires one (docs/automation.md). */
const RULE = {
  name: "Incident",
  trigger: { on: "message", match: { keywords: ["incident"] } },
  actions: [{ do: "post", text: "see the runbook" }],
};

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  const base = server.url;
  olga = await register(base, "olga");
  kim = await register(base, "kim");
  bart = await register(base, "bart");
  nina = await register(base, "nina");
  root = await register(base, "root");
  gus = await signInGuest(base, "gus");
  fakeRoot = await signInGuest(base, "root");
  await createRoom(base, olga, priv, "private");
  seqOf.olga = await post(base, olga, priv, "secret plans", "olga-1");
  await invite(base, olga, priv, "kim");
  await invite(base, olga, priv, "bart");
  seqOf.kim = await post(base, kim, priv, "kim was here", "kim-1");
  seqOf.bart = await post(base, bart, priv, "bart was here", "bart-1");
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

/** An attachment id of the right shape that no room issued. */
const SOME_ID = "AAAAAAAAAAAAAAAAAAAAAA";

type Attempt = { what: string; run: (room: string) => Promise<{ status: number; body: string }> };

/** Every way into a room, for `who`; each run against the private room and against a ghost. */
function attempts(who: Who, victim: Who): Attempt[] {
  const base = server.url;
  const http =
    (method: string, path: string, body?: unknown) =>
    async (room: string): Promise<{ status: number; body: string }> => {
      const answer: Answer = await call(base, method, `/api/rooms/${room}${path}`, {
        token: who.token,
        body,
      });
      return { status: answer.status, body: answer.text };
    };
  const cmd = (frame: Record<string, unknown>) => http("POST", "/commands", frame);
  const tag = `${who.user.name}-${Math.random().toString(36).slice(2, 8)}`;
  return [
    { what: "GET room", run: http("GET", "") },
    { what: "GET events", run: http("GET", "/events") },
    { what: "GET events after/limit", run: http("GET", "/events?after=0&limit=1000") },
    { what: "GET messages", run: http("GET", "/messages") },
    { what: "GET messages before", run: http("GET", "/messages?before=3&limit=1") },
    { what: "GET members", run: http("GET", "/members") },
    ...Object.entries(ROOM_QUERY_ROUTES).map(([path, route]) => ({
      what: `GET ${path}${route.example}`,
      run: http("GET", `${path}${route.example}`),
    })),
    { what: "GET state at past the log", run: http("GET", "/state?at=999999") },
    { what: "GET state atTime", run: http("GET", `/state?atTime=${Date.now()}&limit=200`) },
    { what: "GET bans", run: http("GET", "/bans") },
    // The room's rules and plugins (docs/automation.md, "Rules in the log").
    { what: "GET rules", run: http("GET", "/rules") },
    { what: "POST rules", run: http("POST", "/rules", RULE) },
    { what: "PUT rules/{id}", run: http("PUT", "/rules/rl_00000000000000a1", RULE) },
    { what: "DELETE rules/{id}", run: http("DELETE", "/rules/rl_00000000000000a1") },
    { what: "GET plugins", run: http("GET", "/plugins") },
    // Uploads and files (docs/attachments.md): an id of the right shape, never issued.
    {
      what: "POST uploads",
      run: http("POST", "/uploads", { kind: "file", name: "a.txt", size: 5, clientId: tag }),
    },
    { what: "GET uploads/{id}", run: http("GET", `/uploads/${SOME_ID}`) },
    { what: "PUT uploads/{id}/parts/1", run: http("PUT", `/uploads/${SOME_ID}/parts/1`, "hello") },
    { what: "POST uploads/{id}/complete", run: http("POST", `/uploads/${SOME_ID}/complete`) },
    { what: "DELETE uploads/{id}", run: http("DELETE", `/uploads/${SOME_ID}`) },
    { what: "GET attachments/{id}", run: http("GET", `/attachments/${SOME_ID}`) },
    {
      what: "POST commands post with attachments",
      run: cmd({ type: "post", clientId: `${tag}-pa`, attachments: [SOME_ID] }),
    },
    {
      what: "POST messages",
      run: http("POST", "/messages", { text: "let me in", clientId: `${tag}-m` }),
    },
    // The clientId of a message they posted while they were a member: a replay must not be acked.
    {
      what: "POST messages (replayed clientId)",
      run: http("POST", "/messages", { text: "again", clientId: `${who.user.name}-1` }),
    },
    { what: "POST members (invite)", run: http("POST", "/members", { username: "nina" }) },
    {
      what: "POST members (self as moderator)",
      run: http("POST", "/members", { username: who.user.name, role: "moderator" }),
    },
    {
      what: "POST commands post",
      run: cmd({ type: "post", clientId: `${tag}-p`, text: "let me in" }),
    },
    {
      what: "POST commands post (replayed clientId)",
      run: cmd({ type: "post", clientId: `${who.user.name}-1`, text: "again" }),
    },
    {
      what: "POST commands topic",
      run: cmd({ type: "topic", clientId: `${tag}-t`, topic: "pwned" }),
    },
    {
      what: "POST commands edit own",
      run: cmd({
        type: "edit",
        clientId: `${tag}-e`,
        messageId: seqOf[who.user.name] ?? seqOf.olga!,
        text: "edited",
      }),
    },
    {
      what: "POST commands delete",
      run: cmd({ type: "delete", clientId: `${tag}-d`, messageId: seqOf.olga! }),
    },
    {
      what: "POST commands react",
      run: cmd({
        type: "react",
        clientId: `${tag}-r`,
        messageId: seqOf.olga!,
        emoji: "👍",
        on: true,
      }),
    },
    { what: "POST commands leave", run: cmd({ type: "leave", clientId: `${tag}-l` }) },
    // Undo would take back their own last post there; redo and redaction likewise.
    { what: "POST commands undo", run: cmd({ type: "undo", clientId: `${tag}-un` }) },
    { what: "POST commands redo", run: cmd({ type: "redo", clientId: `${tag}-re` }) },
    {
      what: "POST commands redact own",
      run: cmd({
        type: "redact",
        clientId: `${tag}-ro`,
        messageId: seqOf[who.user.name] ?? seqOf.olga!,
      }),
    },
    {
      what: "POST commands redact",
      run: cmd({ type: "redact", clientId: `${tag}-ra`, messageId: seqOf.olga!, reason: "spam" }),
    },
    {
      what: "POST commands kick",
      run: cmd({ type: "kick", clientId: `${tag}-k`, userId: victim.user.id }),
    },
    {
      what: "POST commands ban",
      run: cmd({ type: "ban", clientId: `${tag}-b`, userId: victim.user.id }),
    },
    {
      what: "POST commands unban self",
      run: cmd({ type: "unban", clientId: `${tag}-u`, userId: who.user.id }),
    },
    {
      what: "POST commands role",
      run: cmd({ type: "role", clientId: `${tag}-o`, userId: who.user.id, role: "moderator" }),
    },
    {
      what: "POST commands transfer",
      run: cmd({ type: "transfer", clientId: `${tag}-x`, userId: who.user.id }),
    },
    {
      what: "POST commands slow_mode",
      run: cmd({ type: "slow_mode", clientId: `${tag}-s`, seconds: 60 }),
    },
    {
      what: "POST commands mute",
      run: cmd({ type: "mute", clientId: `${tag}-mu`, userId: victim.user.id, seconds: 60 }),
    },
    { what: "WS upgrade", run: (room) => upgrade(base, room, who.token) },
    {
      what: "WS upgrade since=0 (Authorization header)",
      run: (room) =>
        tryUpgrade(wsUrl(base, room, 0), [SUBPROTOCOL], { authorization: `Bearer ${who.token}` }),
    },
    {
      what: "WS upgrade since=1",
      run: (room) => tryUpgrade(wsUrl(base, room, 1), [SUBPROTOCOL, BEARER_PREFIX + who.token]),
    },
  ];
}

/** The private room does not exist for `who`: every answer is the ghost's, nothing lands. */
async function invisibleTo(who: Who, label: string): Promise<void> {
  const before = await snapshot(server.url, olga, priv);
  const failures: string[] = [];
  for (const attempt of attempts(who, olga)) {
    const real = await attempt.run(priv);
    const never = await attempt.run(ghost);
    // Byte for byte but for each answer's own request id.
    const same = withoutIds(real.body) === withoutIds(never.body);
    if (real.status !== 404 || never.status !== 404 || !same) {
      failures.push(
        `${label} ${attempt.what}: private ${real.status} ${real.body} / never-created ${never.status} ${never.body}`,
      );
    }
  }
  expect(failures).toEqual([]);
  await expectUnchanged(server.url, olga, priv, before);
  // The ghost was not created by any of this either.
  expectError(
    await call(server.url, "GET", `/api/rooms/${ghost}`, { token: olga.token }),
    404,
    "not_found",
    "ghost",
  );
  const listed = RoomList.parse(
    (await call(server.url, "GET", "/api/rooms", { token: who.token })).json,
  );
  expect(listed.rooms.map((r) => r.name)).not.toContain(priv);
}

describe("a private room", () => {
  it("is visible to its members (the baseline)", async () => {
    for (const who of [olga, kim, bart]) {
      const answer = await call(server.url, "GET", `/api/rooms/${priv}`, { token: who.token });
      expect(answer.status, answer.text).toBe(200);
    }
    // Private rooms are never listed, not even for their owner.
    const listed = RoomList.parse(
      (await call(server.url, "GET", "/api/rooms", { token: olga.token })).json,
    );
    expect(listed.rooms.map((r) => r.name)).not.toContain(priv);
  });

  it("does not exist for a registered non-member", async () => {
    await invisibleTo(nina, "nina");
  });

  it("does not exist for a guest, nor for a guest who calls herself root", async () => {
    await invisibleTo(gus, "gus");
    await invisibleTo(fakeRoot, "guest root");
  });

  it("does not exist for a kicked member; their open socket was closed with 4403", async () => {
    const socket = await rawConnect(server.url, priv, kim.token);
    await command(server.url, olga, priv, {
      type: "kick",
      clientId: "kick-kim",
      userId: kim.user.id,
    });
    expect(await closeFrameCode(socket)).toBe(CLOSE.removed);
    await invisibleTo(kim, "kim");
  });

  it("does not exist for a banned member; their open socket was closed with 4403", async () => {
    const socket = await rawConnect(server.url, priv, bart.token);
    await command(server.url, olga, priv, {
      type: "ban",
      clientId: "ban-bart",
      userId: bart.user.id,
    });
    expect(await closeFrameCode(socket)).toBe(CLOSE.removed);
    await invisibleTo(bart, "bart");
  });

  it("a member who left is outside too", async () => {
    const lea = await register(server.url, "lea");
    await invite(server.url, olga, priv, "lea");
    await post(server.url, lea, priv, "bye", "lea-1");
    await command(server.url, lea, priv, { type: "leave", clientId: "lea-leave" });
    await invisibleTo(lea, "lea");
  });

  it("lists its bans to its owner and moderators only, with the name the user had there", async () => {
    const mona = await register(server.url, "mona");
    const mel = await register(server.url, "mel");
    await invite(server.url, olga, priv, "mona", "moderator");
    await invite(server.url, olga, priv, "mel");
    const troll = await register(server.url, "troll");
    await invite(server.url, olga, priv, "troll");
    await command(server.url, mona, priv, {
      type: "ban",
      clientId: "ban-troll",
      userId: troll.user.id,
    });
    for (const who of [olga, mona, root]) {
      const answer = await call(server.url, "GET", `/api/rooms/${priv}/bans`, { token: who.token });
      expect(answer.status, answer.text).toBe(200);
      const { bans } = BanList.parse(answer.json);
      expect(bans[0]).toMatchObject({ id: troll.user.id, name: "troll" });
      expect(bans.map((b) => b.id)).toContain(bart.user.id);
    }
    // A member may not; the banned user and outsiders do not even see the room.
    expectError(
      await call(server.url, "GET", `/api/rooms/${priv}/bans`, { token: mel.token }),
      403,
      "forbidden",
      "mel bans",
    );
    for (const who of [troll, nina, gus]) {
      expectError(
        await call(server.url, "GET", `/api/rooms/${priv}/bans`, { token: who.token }),
        404,
        "not_found",
        `${who.user.name} bans`,
      );
    }
    expectError(
      await call(server.url, "GET", `/api/rooms/${priv}/bans`),
      401,
      "unauthorized",
      "anonymous bans",
    );
  });

  it("a plain member cannot moderate: 403, nothing changes", async () => {
    const max = await register(server.url, "max");
    await invite(server.url, olga, priv, "max");
    const before = await snapshot(server.url, olga, priv);
    const frames = [
      { type: "topic", clientId: "max-t", topic: "mine" },
      { type: "kick", clientId: "max-k", userId: olga.user.id },
      { type: "ban", clientId: "max-b", userId: olga.user.id },
      { type: "role", clientId: "max-r", userId: max.user.id, role: "moderator" },
      { type: "transfer", clientId: "max-x", userId: max.user.id },
      { type: "slow_mode", clientId: "max-s", seconds: 10 },
      { type: "unban", clientId: "max-u", userId: bart.user.id },
      { type: "delete", clientId: "max-d", messageId: seqOf.olga! },
      { type: "edit", clientId: "max-e", messageId: seqOf.olga!, text: "olga said nothing" },
      { type: "redact", clientId: "max-rd", messageId: seqOf.olga! },
      { type: "redact", clientId: "max-rr", messageId: seqOf.kim!, reason: "not yours" },
    ];
    for (const frame of frames) {
      const answer = await call(server.url, "POST", `/api/rooms/${priv}/commands`, {
        token: max.token,
        body: frame,
      });
      expectError(answer, 403, "forbidden", `max ${frame.type}`);
    }
    expectError(
      await call(server.url, "POST", `/api/rooms/${priv}/members`, {
        token: max.token,
        body: { username: "nina" },
      }),
      403,
      "forbidden",
      "max invite",
    );
    await expectUnchanged(server.url, olga, priv, before);
  });
});

describe("a public room", () => {
  let pub: string;
  beforeAll(async () => {
    pub = roomName("pub");
    await createRoom(server.url, olga, pub);
  });

  it("a banned user: socket closed with 4403 at once, 403 on writes, reads and the WebSocket", async () => {
    const bob = await signInGuest(server.url, "bob");
    const socket = await rawConnect(server.url, pub, bob.token);
    socket.sendJson({ type: "post", clientId: "bob-1", text: "hi" });
    await socket.nth("ack", 1);
    await command(server.url, olga, pub, { type: "ban", clientId: "ban-bob", userId: bob.user.id });
    expect(await closeFrameCode(socket)).toBe(CLOSE.removed);

    const before = await snapshot(server.url, olga, pub);
    const failures: string[] = [];
    for (const attempt of attempts(bob, olga)) {
      const answer = await attempt.run(pub);
      if (answer.status !== 403)
        failures.push(`bob ${attempt.what}: ${answer.status} ${answer.body}`);
    }
    expect(failures).toEqual([]);
    await expectUnchanged(server.url, olga, pub, before);
    // Unbanned, bob may come back.
    await command(server.url, olga, pub, {
      type: "unban",
      clientId: "unban-bob",
      userId: bob.user.id,
    });
    expect((await upgrade(server.url, pub, bob.token)).status).toBe(101);
  });

  it("a kicked member's open socket is closed with 4403", async () => {
    const carl = await signInGuest(server.url, "carl");
    const socket = await rawConnect(server.url, pub, carl.token);
    const second = await rawConnect(server.url, pub, carl.token);
    await command(server.url, olga, pub, {
      type: "kick",
      clientId: "kick-carl",
      userId: carl.user.id,
    });
    expect(await closeFrameCode(socket)).toBe(CLOSE.removed);
    expect(await closeFrameCode(second)).toBe(CLOSE.removed);
    const members = (await snapshot(server.url, olga, pub)).members.members.map((m) => m.id);
    expect(members).not.toContain(carl.user.id);
  });

  it("a moderator cannot act on the owner or another moderator", async () => {
    const mod1 = await register(server.url, "mod1");
    const mod2 = await register(server.url, "mod2");
    await invite(server.url, olga, pub, "mod1", "moderator");
    await invite(server.url, olga, pub, "mod2", "moderator");
    const before = await snapshot(server.url, olga, pub);
    for (const frame of [
      { type: "kick", clientId: "m-k", userId: olga.user.id },
      { type: "ban", clientId: "m-b", userId: mod2.user.id },
      { type: "mute", clientId: "m-m", userId: mod2.user.id, seconds: 60 },
      { type: "role", clientId: "m-r", userId: mod1.user.id, role: "member" },
      { type: "transfer", clientId: "m-x", userId: mod1.user.id },
    ]) {
      await refusedCommand(server.url, mod1, pub, frame, [403, "forbidden"], `mod1 ${frame.type}`);
    }
    expectError(
      await call(server.url, "POST", `/api/rooms/${pub}/members`, {
        token: mod1.token,
        body: { username: "nina", role: "moderator" },
      }),
      403,
      "forbidden",
      "mod invites a moderator",
    );
    await expectUnchanged(server.url, olga, pub, before);
  });
});

describe("the instance admin", () => {
  it("reads and moderates a private room without being a member", async () => {
    const base = server.url;
    const queried = Object.entries(ROOM_QUERY_ROUTES).map(([path, r]) => path + r.example);
    for (const path of ["", "/events", "/messages", "/members", ...queried]) {
      const answer = await call(base, "GET", `/api/rooms/${priv}${path}`, { token: root.token });
      expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    }
    const socket = await rawConnect(base, priv, root.token);
    const before = await snapshot(base, olga, priv);
    // Watching does not make the admin a member.
    expect(before.members.members.map((m) => m.id)).not.toContain(root.user.id);

    const zoe = await register(base, "zoe");
    await invite(base, olga, priv, "zoe");
    const zoeSocket = await rawConnect(base, priv, zoe.token);
    const kicked = await command(base, root, priv, {
      type: "kick",
      clientId: "root-kick",
      userId: zoe.user.id,
    });
    expect(await closeFrameCode(zoeSocket)).toBe(CLOSE.removed);
    const topic = await command(base, root, priv, {
      type: "topic",
      clientId: "root-topic",
      topic: "moderated",
    });
    const events = (await snapshot(base, olga, priv)).events.events;
    expect(events.find((e) => e.seq === kicked)).toMatchObject({
      type: "member.kicked",
      actor: { id: root.user.id, name: "root" },
      data: { userId: zoe.user.id },
    });
    expect(events.find((e) => e.seq === topic)).toMatchObject({
      type: "room.topic_changed",
      actor: { id: root.user.id },
    });
    // The admin's socket saw it all and stays open.
    await handled(socket);
    expect(socket.isOpen).toBe(true);
    // Not even the admin may remove the owner.
    expectError(
      await call(base, "POST", `/api/rooms/${priv}/commands`, {
        token: root.token,
        body: { type: "ban", clientId: "root-ban-olga", userId: olga.user.id },
      }),
      403,
      "forbidden",
      "admin bans the owner",
    );
  });
});
