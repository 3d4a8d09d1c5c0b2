/**
 * Mass assignment: fields a client must not set (`role`, `actor`, `seq`, `id`, `at`, `admin`,
 * `userId`, `kind`, `visibility`, `owner`, ...) in every command frame and every JSON body are
 * ignored or refused, never applied. The events' actor is the real caller, seqs and ids are the
 * server's, guests stay guests, and nobody gains a role.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RoomEvent, Session, User } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  command,
  createRoom,
  expectError,
  expectUnchanged,
  handled,
  post,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  snapshot,
  startServer,
  type TestServer,
  type Who,
  refusedCommand,
} from "./helpers.ts";

let server: TestServer;
let olga: Who; // owner of the rooms, registered
let eve: Who; // the attacker, a guest
let rita: Who; // another attacker, registered
let room: string;
let olgaMessage: number;

/** Everything a client might try to smuggle into a frame or body. */
function smuggled(victim: Who, extra: Record<string, unknown> = {}) {
  return {
    role: "owner",
    actor: { id: victim.user.id, name: victim.user.name },
    author: { id: victim.user.id, name: victim.user.name },
    user: { id: victim.user.id, name: victim.user.name },
    seq: 1,
    id: "0190d4aa-0000-7000-8000-000000000000",
    at: 0,
    admin: true,
    kind: "user",
    visibility: "private",
    owner: victim.user.id,
    sub: victim.user.id,
    sid: "0".repeat(32),
    ...extra,
  };
}

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  olga = await register(server.url, "olga");
  eve = await signInGuest(server.url, "eve");
  rita = await register(server.url, "rita");
  room = roomName("props");
  await createRoom(server.url, olga, room);
  olgaMessage = await post(server.url, olga, room, "olga's message", "olga-1");
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

async function eventAt(seq: number): Promise<RoomEvent> {
  const events = (await snapshot(server.url, olga, room)).events.events;
  const event = events.find((e) => e.seq === seq);
  expect(event, `event ${seq}`).toBeDefined();
  return event!;
}

/** An applied event: the caller as actor, the server's seq, a fresh id and a current time. */
function expectHonest(event: RoomEvent, who: Who, seq: number, since: number) {
  expect(event.actor).toEqual({ id: who.user.id, name: who.user.name });
  expect(event.seq).toBe(seq);
  expect(event.id).not.toBe("0190d4aa-0000-7000-8000-000000000000");
  expect(event.at).toBeGreaterThanOrEqual(since - 5_000);
}

describe("command frames over the WebSocket", () => {
  it("post, edit, react, delete with smuggled fields act as the caller, at the server's seq", async () => {
    const socket = await rawConnect(server.url, room, eve.token);
    const since = Date.now();
    const frames = [
      {
        type: "post",
        clientId: "ws-post",
        text: "eve speaks",
        ...smuggled(olga),
        seq: 999,
        replyTo: olgaMessage,
      },
    ];
    socket.sendJson(frames[0]);
    const posted = (await socket.nth("ack", 1)).seq;
    expect(posted).not.toBe(999);
    expectHonest(await eventAt(posted), eve, posted, since);
    expect((await eventAt(posted)).data).toEqual({ text: "eve speaks", replyTo: olgaMessage });

    socket.sendJson({
      type: "edit",
      clientId: "ws-edit",
      messageId: posted,
      text: "eve edits",
      ...smuggled(olga),
    });
    const edited = (await socket.nth("ack", 2)).seq;
    expectHonest(await eventAt(edited), eve, edited, since);

    socket.sendJson({
      type: "react",
      clientId: "ws-react",
      messageId: olgaMessage,
      emoji: "👍",
      on: true,
      ...smuggled(olga),
    });
    const reacted = (await socket.nth("ack", 3)).seq;
    expectHonest(await eventAt(reacted), eve, reacted, since);
    const messages = (await snapshot(server.url, olga, room)).messages.messages;
    expect(messages.find((m) => m.id === olgaMessage)?.reactions["👍"]).toEqual([eve.user.id]);
    expect(messages.find((m) => m.id === olgaMessage)?.author.id).toBe(olga.user.id);
    expect(messages.find((m) => m.id === posted)?.author.id).toBe(eve.user.id);

    socket.sendJson({
      type: "delete",
      clientId: "ws-delete",
      messageId: posted,
      ...smuggled(olga),
    });
    const deleted = (await socket.nth("ack", 4)).seq;
    expectHonest(await eventAt(deleted), eve, deleted, since);
  });

  it("deleting or editing someone else's message with `actor`/`userId`/`admin` set: forbidden, nothing changes", async () => {
    const socket = await rawConnect(server.url, room, eve.token);
    const before = await snapshot(server.url, olga, room);
    const attempts = [
      {
        type: "delete",
        clientId: "ws-x1",
        messageId: olgaMessage,
        ...smuggled(olga),
        userId: olga.user.id,
      },
      {
        type: "edit",
        clientId: "ws-x2",
        messageId: olgaMessage,
        text: "olga is wrong",
        ...smuggled(olga),
      },
      { type: "topic", clientId: "ws-x3", topic: "eve's room", ...smuggled(olga) },
      { type: "slow_mode", clientId: "ws-x4", seconds: 3600, ...smuggled(olga) },
      { type: "ban", clientId: "ws-x5", userId: olga.user.id, ...smuggled(olga) },
      { type: "kick", clientId: "ws-x6", userId: rita.user.id, ...smuggled(olga) },
      {
        type: "role",
        clientId: "ws-x7",
        userId: eve.user.id,
        ...smuggled(olga),
        role: "moderator",
      },
      { type: "transfer", clientId: "ws-x8", userId: eve.user.id, ...smuggled(olga) },
      { type: "mute", clientId: "ws-x9", userId: olga.user.id, seconds: 60, ...smuggled(olga) },
      {
        type: "redact",
        clientId: "ws-x10",
        messageId: olgaMessage,
        reason: "olga asked",
        ...smuggled(olga),
        userId: olga.user.id,
      },
    ];
    for (const frame of attempts) socket.sendJson(frame);
    await socket.nth("error", attempts.length);
    const errors = socket.of("error");
    expect(errors.map((e) => [e.clientId, e.code])).toEqual(
      attempts.map((f) => [f.clientId, "forbidden"]),
    );
    expect(socket.of("ack")).toEqual([]);
    await expectUnchanged(server.url, olga, room, before);
  });

  it("undo and redo with smuggled `undoes`, `redoes`, `messageId`, `actor`: only the caller's own last action", async () => {
    const socket = await rawConnect(server.url, room, eve.token);
    const since = Date.now();
    socket.sendJson({ type: "post", clientId: "ws-u-post", text: "eve's to take back" });
    const posted = (await socket.nth("ack", 1)).seq;
    const steer = {
      ...smuggled(olga),
      undoes: olgaMessage,
      redoes: olgaMessage,
      messageId: olgaMessage,
      seq: olgaMessage,
    };
    socket.sendJson({ type: "undo", clientId: "ws-u-undo", ...steer });
    const undone = (await socket.nth("ack", 2)).seq;
    expectHonest(await eventAt(undone), eve, undone, since);
    expect(await eventAt(undone)).toMatchObject({
      type: "message.deleted",
      data: { messageId: posted, undoes: posted },
    });
    socket.sendJson({ type: "redo", clientId: "ws-u-redo", ...steer });
    const redone = (await socket.nth("ack", 3)).seq;
    expectHonest(await eventAt(redone), eve, redone, since);
    expect(await eventAt(redone)).toMatchObject({
      type: "message.restored",
      data: { messageId: posted, text: "eve's to take back", redoes: posted },
    });
    // olga's message, named in every smuggled field, is untouched.
    const olgas = (await snapshot(server.url, olga, room)).messages.messages.find(
      (m) => m.id === olgaMessage,
    );
    expect(olgas).toMatchObject({ text: "olga's message", author: { id: olga.user.id } });
    expect(olgas?.deleted).toBeUndefined();
    expect(olgas?.redacted).toBeUndefined();
  });

  it("an `invite` frame (the worker's internal command) is refused: nobody is invited with a forged user", async () => {
    const socket = await rawConnect(server.url, room, eve.token);
    const before = await snapshot(server.url, olga, room);
    socket.sendJson({
      ...smuggled(olga),
      type: "invite",
      clientId: "ws-invite",
      user: { id: eve.user.id, name: "eve" },
      role: "moderator",
    });
    const error = await socket.nth("error", 1);
    expect(error.code).toBe("bad_request");
    await expectUnchanged(server.url, olga, room, before);
  });

  it("read markers with smuggled fields move only the caller's marker", async () => {
    const socket = await rawConnect(server.url, room, eve.token);
    socket.sendJson({ type: "read", ...smuggled(olga), userId: olga.user.id, seq: 1e15 });
    await handled(socket);
    const lastSeq = (await snapshot(server.url, olga, room)).events.lastSeq;
    const olgas = await rawConnect(server.url, room, olga.token);
    // olga's own marker did not move because of eve; eve's stopped at the room's last seq.
    expect(olgas.of("welcome")[0]!.readSeq ?? 0).toBe(0);
    const eves = await rawConnect(server.url, room, eve.token);
    expect(eves.of("welcome")[0]!.readSeq).toBe(lastSeq);
  });
});

describe("command bodies over HTTP", () => {
  it("POST /commands and /messages: smuggled fields are ignored, the caller is the actor", async () => {
    const since = Date.now();
    const viaCommands = await command(server.url, eve, room, {
      type: "post",
      clientId: "http-post",
      text: "over http",
      ...smuggled(olga),
    });
    expectHonest(await eventAt(viaCommands), eve, viaCommands, since);
    const answer = await call(server.url, "POST", `/api/rooms/${room}/messages`, {
      token: eve.token,
      body: {
        text: "bot message",
        clientId: "http-msg",
        ...smuggled(olga),
        type: "delete",
        messageId: olgaMessage,
      },
    });
    expect(answer.status, answer.text).toBe(201);
    const seq = (answer.json as { seq: number }).seq;
    const event = await eventAt(seq);
    expectHonest(event, eve, seq, since);
    expect(event.type).toBe("message.posted");
    // olga's message is intact.
    const olgas = (await snapshot(server.url, olga, room)).messages.messages.find(
      (m) => m.id === olgaMessage,
    );
    expect(olgas).toMatchObject({ text: "olga's message", author: { id: olga.user.id } });
    expect(olgas?.deleted).toBeUndefined();
  });

  it("POST /commands: moderation with smuggled admin/role/actor is forbidden, `invite` is a bad request", async () => {
    const before = await snapshot(server.url, olga, room);
    for (const frame of [
      { type: "topic", clientId: "h-1", topic: "mine", ...smuggled(olga) },
      { type: "ban", clientId: "h-2", userId: rita.user.id, ...smuggled(olga) },
      { type: "transfer", clientId: "h-3", userId: eve.user.id, ...smuggled(olga) },
      { type: "role", clientId: "h-4", userId: eve.user.id, ...smuggled(olga), role: "moderator" },
      { type: "delete", clientId: "h-5", messageId: olgaMessage, ...smuggled(olga) },
      { type: "redact", clientId: "h-7", messageId: olgaMessage, ...smuggled(olga) },
    ]) {
      await refusedCommand(server.url, eve, room, frame, [403, "forbidden"], `eve ${frame.type}`);
    }
    expectError(
      await call(server.url, "POST", `/api/rooms/${room}/commands`, {
        token: eve.token,
        body: {
          type: "invite",
          clientId: "h-6",
          user: { id: eve.user.id, name: "eve" },
          role: "moderator",
        },
      }),
      400,
      "bad_request",
      "invite as a command",
    );
    // Signals are not commands over HTTP.
    for (const frame of [{ type: "typing" }, { type: "read", seq: 1 }, { type: "ping" }]) {
      await refusedCommand(
        server.url,
        eve,
        room,
        frame,
        [400, "bad_request"],
        `signal ${frame.type}`,
      );
    }
    await expectUnchanged(server.url, olga, room, before);
  });

  it("POST /members: `role: owner`, `userId`, `user` and `admin` are refused or ignored", async () => {
    const before = await snapshot(server.url, olga, room);
    expectError(
      await call(server.url, "POST", `/api/rooms/${room}/members`, {
        token: olga.token,
        body: { username: "rita", role: "owner" },
      }),
      400,
      "bad_request",
      "invite as owner",
    );
    await expectUnchanged(server.url, olga, room, before);
    // The invited user is the one named by `username`, whatever `userId`/`user` claim.
    const invited = await call(server.url, "POST", `/api/rooms/${room}/members`, {
      token: olga.token,
      body: {
        username: "rita",
        userId: eve.user.id,
        user: { id: eve.user.id, name: "eve" },
        admin: true,
      },
    });
    expect(invited.status, invited.text).toBe(201);
    const event = await eventAt((invited.json as { seq: number }).seq);
    expect(event).toMatchObject({
      type: "member.invited",
      actor: { id: olga.user.id },
      data: { user: { id: rita.user.id, name: "rita" }, role: "member" },
    });
    // A member with smuggled fields cannot invite at all.
    const after = await snapshot(server.url, olga, room);
    expectError(
      await call(server.url, "POST", `/api/rooms/${room}/members`, {
        token: rita.token,
        body: { ...smuggled(olga), username: "olga", role: "moderator" },
      }),
      403,
      "forbidden",
      "member invites",
    );
    await expectUnchanged(server.url, olga, room, after);
  });
});

describe("auth and room bodies", () => {
  it("register with role/admin/kind/id: a plain user with a server-made id, not an admin", async () => {
    const answer = await call(server.url, "POST", "/api/auth/register", {
      body: {
        username: "sneaky",
        password: "sneaky password",
        role: "admin",
        admin: true,
        kind: "guest",
        id: olga.user.id,
        user: { id: olga.user.id },
        sid: "0".repeat(32),
      },
    });
    expect(answer.status, answer.text).toBe(201);
    const session = Session.parse(answer.json);
    expect(session.user.kind).toBe("user");
    expect(session.user.name).toBe("sneaky");
    expect(session.user.id).toMatch(/^u_/);
    expect(session.user.id).not.toBe(olga.user.id);
    expect(Object.keys(session.user).sort()).toEqual(["id", "kind", "name"]);
    // Not an admin: a private room of someone else stays invisible.
    const priv = roomName("hidden");
    await createRoom(server.url, olga, priv, "private");
    expectError(
      await call(server.url, "GET", `/api/rooms/${priv}`, { token: session.token }),
      404,
      "not_found",
    );
    // And the account answers with the same user.
    const me = User.parse(
      (await call(server.url, "GET", "/api/auth/me", { token: session.token })).json,
    );
    expect(me).toEqual(session.user);
  });

  it("login with extra fields signs in only the named user", async () => {
    const answer = await call(server.url, "POST", "/api/auth/login", {
      body: {
        username: "rita",
        password: rita.password,
        id: olga.user.id,
        admin: true,
        role: "owner",
      },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(Session.parse(answer.json).user).toEqual(rita.user);
  });

  it("guest sign-in with kind/id/admin: still a fresh guest", async () => {
    const answer = await call(server.url, "POST", "/api/auth/guest", {
      body: {
        name: "olga",
        kind: "user",
        id: olga.user.id,
        admin: true,
        role: "owner",
        sid: "0".repeat(32),
      },
    });
    expect(answer.status, answer.text).toBe(200);
    const session = Session.parse(answer.json);
    expect(session.user.kind).toBe("guest");
    expect(session.user.id).toMatch(/^g_/);
    expect(session.user.id).not.toBe(olga.user.id);
    expect(session.refreshToken).toBeUndefined();
    const me = User.parse(
      (await call(server.url, "GET", "/api/auth/me", { token: session.token })).json,
    );
    expect(me.kind).toBe("guest");
    // A guest named "olga" is not olga: her moderation is refused.
    expectError(
      await call(server.url, "POST", `/api/rooms/${room}/commands`, {
        token: session.token,
        body: { type: "topic", clientId: "fake-olga", topic: "fake" },
      }),
      403,
      "forbidden",
      "fake olga",
    );
    // Guests cannot make private rooms, whatever kind they claim in the body.
    expectError(
      await call(server.url, "POST", "/api/rooms", {
        token: session.token,
        body: { name: roomName("guestpriv"), visibility: "private", kind: "user" },
      }),
      403,
      "forbidden",
      "guest private room",
    );
  });

  it("create room with owner/members/lastSeq/createdAt: the caller owns it, the log starts at 1", async () => {
    const name = roomName("owned");
    const since = Date.now();
    const answer = await call(server.url, "POST", "/api/rooms", {
      token: eve.token,
      body: {
        name,
        owner: olga.user.id,
        ownerId: olga.user.id,
        createdBy: olga.user.id,
        actor: { id: olga.user.id, name: "olga" },
        members: [olga.user.id],
        lastSeq: 500,
        createdAt: 0,
        admin: true,
      },
    });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.json).toMatchObject({ name, lastSeq: 2, members: 1, visibility: "public" });
    expect((answer.json as { createdAt: number }).createdAt).toBeGreaterThanOrEqual(since - 5_000);
    const members = await call(server.url, "GET", `/api/rooms/${name}/members`, {
      token: eve.token,
    });
    expect((members.json as { members: { id: string; role: string }[] }).members).toEqual([
      expect.objectContaining({ id: eve.user.id, role: "owner" }),
    ]);
    const events = await call(server.url, "GET", `/api/rooms/${name}/events`, { token: eve.token });
    const list = (events.json as { events: RoomEvent[] }).events;
    expect(list.map((e) => [e.seq, e.type, e.actor.id])).toEqual([
      [1, "room.created", eve.user.id],
      [2, "member.joined", eve.user.id],
    ]);
    // olga, named as owner, has no say there.
    expectError(
      await call(server.url, "POST", `/api/rooms/${name}/commands`, {
        token: olga.token,
        body: { type: "topic", clientId: "olga-topic", topic: "mine after all" },
      }),
      403,
      "forbidden",
      "olga in eve's room",
    );
  });
});
