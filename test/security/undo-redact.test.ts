/**
 * Undo, redo and redaction scene by scene, against the contract's words (the fuzzers' oracle in
 * ./contract.ts covers plain members at random; these cover the roles it never plays):
 *
 * - "Authors redact their own messages, moderators/owner/admins anyone's; unknown message →
 *   not_found; already redacted → no-op (ack with the existing seq); others → forbidden." The
 *   redaction "empties the text of every event that carried the message's text (served with
 *   `redacted: true`), the message is served with `text: ""` and `redacted: true`; a redacted
 *   message cannot be edited, reacted to, replied to or restored."
 * - Undo takes back "your own last action", redo applies again "the action you undid last";
 *   compensating events carry `undoes`/`redoes`; "a new action empties your redo stack";
 *   "nothing to undo/redo, or an action that can no longer be taken back → conflict"; "a muted
 *   user may only undo/redo into a message.deleted, else forbidden"; "undo/redo of a change to
 *   someone else's message needs the delete_any power (moderator+)".
 *
 * Every refusal leaves the room exactly as it was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { STATUS_OF, type Code } from "./contract.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  command,
  createRoom,
  errorPart,
  expectError,
  expectUnchanged,
  invite,
  post,
  refusedCommand,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  snapshot,
  startServer,
  type TestServer,
  type Who,
} from "./helpers.ts";

let server: TestServer;
let olga: Who; // owner
let mona: Who; // moderator
let amy: Who; // member (a guest)
let ben: Who; // member (a guest)
let root: Who; // instance admin, never a member
let room: string;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  olga = await register(server.url, "olga");
  mona = await register(server.url, "mona");
  root = await register(server.url, "root");
  amy = await signInGuest(server.url, "amy");
  ben = await signInGuest(server.url, "ben");
  room = roomName("undo");
  await createRoom(server.url, olga, room);
  await invite(server.url, olga, room, "mona", "moderator");
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

let n = 0;
const cid = (what: string) => `${what}-${++n}`;

async function eventAt(seq: number) {
  const event = (await snapshot(server.url, olga, room)).events.events.find((e) => e.seq === seq);
  expect(event, `event ${seq}`).toBeDefined();
  return event!;
}

async function messageOf(id: number) {
  const message = (await snapshot(server.url, olga, room)).messages.messages.find(
    (m) => m.id === id,
  );
  expect(message, `message ${id}`).toBeDefined();
  return message!;
}

/** A command that must be refused with one of `codes`, the room unchanged. */
async function refusedWith(who: Who, frame: object, codes: Code[], what: string) {
  const before = await snapshot(server.url, olga, room);
  const answer = await call(server.url, "POST", `/api/rooms/${room}/commands`, {
    token: who.token,
    body: frame,
  });
  const code = (answer.json as { error?: { code?: Code } } | undefined)?.error?.code;
  expect(codes, `${what}: ${answer.status} ${answer.text}`).toContain(code);
  expectError(answer, STATUS_OF[code!], code!, what);
  await expectUnchanged(server.url, olga, room, before);
}

/** An undo or redo that must be applied: the event it logged. */
async function step(who: Who, type: "undo" | "redo") {
  return eventAt(await command(server.url, who, room, { type, clientId: cid(type) }));
}

describe("redaction", () => {
  it("who may: the author, moderators, the owner and admins; others are forbidden", async () => {
    const amys = await post(server.url, amy, room, "amy's secret", cid("p"));
    const bens = await post(server.url, ben, room, "ben's secret", cid("p"));
    const monas = await post(server.url, mona, room, "mona's secret", cid("p"));
    const olgas = await post(server.url, olga, room, "olga's secret", cid("p"));
    // A member may not redact someone else's message, whatever the reason.
    await refusedWith(
      ben,
      { type: "redact", clientId: cid("r"), messageId: amys },
      ["forbidden"],
      "ben",
    );
    await refusedWith(
      amy,
      { type: "redact", clientId: cid("r"), messageId: olgas, reason: "I own this" },
      ["forbidden"],
      "amy on the owner's",
    );
    for (const [who, id] of [
      [amy, amys], // the author
      [mona, bens], // a moderator, anyone's
      [olga, monas], // the owner, a moderator's
      [root, olgas], // an admin who is no member, the owner's
    ] as const) {
      const seq = await command(server.url, who, room, {
        type: "redact",
        clientId: cid("r"),
        messageId: id,
      });
      expect(await eventAt(seq)).toMatchObject({
        type: "message.redacted",
        actor: { id: who.user.id },
        data: { messageId: id },
      });
      expect(await messageOf(id)).toMatchObject({ text: "", redacted: true });
    }
  });

  it("unknown messages are not found; malformed reasons are bad requests", async () => {
    const lastSeq = (await snapshot(server.url, olga, room)).events.lastSeq;
    for (const messageId of [lastSeq + 1000, 1 /* room.created */, 2 /* member.joined */])
      await refusedWith(
        olga,
        { type: "redact", clientId: cid("r"), messageId },
        ["not_found"],
        `redact ${messageId}`,
      );
    const id = await post(server.url, amy, room, "a message", cid("p"));
    for (const reason of ["x".repeat(501), " ", "\t\n\u3000", "\u0085", null, 5, ["spam"]])
      await refusedWith(
        amy,
        { type: "redact", clientId: cid("r"), messageId: id, reason },
        ["bad_request"],
        `reason ${JSON.stringify(reason)?.slice(0, 20)}`,
      );
    for (const messageId of [0, -1, 1.5, "3", null])
      await refusedWith(
        amy,
        { type: "redact", clientId: cid("r"), messageId },
        ["bad_request"],
        `messageId ${JSON.stringify(messageId)}`,
      );
    await refusedWith(amy, { type: "redact", clientId: cid("r") }, ["bad_request"], "no messageId");
    // 500 characters are fine, and the reason is logged.
    const seq = await command(server.url, amy, room, {
      type: "redact",
      clientId: cid("r"),
      messageId: id,
      reason: "x".repeat(500),
    });
    expect((await eventAt(seq)).data).toEqual({ messageId: id, reason: "x".repeat(500) });
  });

  it("empties every event that carried the text; twice is a no-op; nothing more may happen to it", async () => {
    const id = await post(server.url, amy, room, "first words", cid("p"));
    const edited = await command(server.url, amy, room, {
      type: "edit",
      clientId: cid("e"),
      messageId: id,
      text: "second words",
    });
    const undone = (await step(amy, "undo")).seq; // message.edited back to "first words"
    const reacted = await command(server.url, ben, room, {
      type: "react",
      clientId: cid("re"),
      messageId: id,
      emoji: "👍",
      on: true,
    });
    const redacted = await command(server.url, amy, room, {
      type: "redact",
      clientId: cid("r"),
      messageId: id,
      reason: "posted by mistake",
    });
    const { events } = (await snapshot(server.url, olga, room)).events;
    for (const seq of [id, edited, undone]) {
      const event = events.find((e) => e.seq === seq)!;
      expect(event, `event ${seq}`).toMatchObject({ redacted: true, data: { text: "" } });
    }
    expect(JSON.stringify(events)).not.toMatch(/first words|second words/);
    expect(events.find((e) => e.seq === redacted)).toMatchObject({
      type: "message.redacted",
      data: { messageId: id, reason: "posted by mistake" },
    });
    expect(events.find((e) => e.seq === reacted)?.redacted).toBeUndefined();
    expect(await messageOf(id)).toMatchObject({ text: "", redacted: true });

    // Twice: acked with the existing seq (the redaction's, or the room's lastSeq), nothing logged;
    // a member who is not the author gets the no-op or a refusal, never a new event.
    const before = await snapshot(server.url, olga, room);
    for (const who of [amy, mona]) {
      const answer = await call(server.url, "POST", `/api/rooms/${room}/commands`, {
        token: who.token,
        body: { type: "redact", clientId: cid("r"), messageId: id, reason: "again" },
      });
      expect(answer.status, answer.text).toBe(201);
      expect([redacted, before.events.lastSeq]).toContain((answer.json as { seq: number }).seq);
    }
    const bens = await call(server.url, "POST", `/api/rooms/${room}/commands`, {
      token: ben.token,
      body: { type: "redact", clientId: cid("r"), messageId: id },
    });
    expect([201, 403], bens.text).toContain(bens.status);
    await expectUnchanged(server.url, olga, room, before);

    // Not edited, reacted to, replied to or restored: by its author, a moderator or anyone.
    const refusals: Code[] = ["not_found", "conflict"];
    await refusedWith(
      amy,
      { type: "edit", clientId: cid("e"), messageId: id, text: "back again" },
      refusals,
      "edit",
    );
    for (const on of [true, false])
      await refusedWith(
        ben,
        { type: "react", clientId: cid("re"), messageId: id, emoji: "👍", on },
        refusals,
        `react ${on}`,
      );
    await refusedWith(
      mona,
      { type: "react", clientId: cid("re"), messageId: id, emoji: "🎉", on: true },
      refusals,
      "react",
    );
    await refusedWith(
      ben,
      { type: "post", clientId: cid("p"), text: "a reply", replyTo: id },
      refusals,
      "reply",
    );
    // amy's last action is her undo's target (the edit): it cannot be taken back now.
    await refusedWith(amy, { type: "undo", clientId: cid("u") }, ["conflict"], "undo the edit");
    // ben's last action is his reaction to it: not either.
    await refusedWith(ben, { type: "undo", clientId: cid("u") }, ["conflict"], "undo the reaction");
  });

  it("a deleted message can be redacted by its author, and is then never restored", async () => {
    const id = await post(server.url, ben, room, "gone soon", cid("p"));
    const deleted = await command(server.url, ben, room, {
      type: "delete",
      clientId: cid("d"),
      messageId: id,
    });
    const answer = await call(server.url, "POST", `/api/rooms/${room}/commands`, {
      token: ben.token,
      body: { type: "redact", clientId: cid("r"), messageId: id },
    });
    // "An unknown or deleted message" is not_found elsewhere; a redaction that reaches a deleted
    // message's text is the other reading. Either way the undo of the delete cannot restore it.
    if (answer.status === 201) {
      const { events } = (await snapshot(server.url, olga, room)).events;
      expect(JSON.stringify(events)).not.toMatch(/gone soon/);
      expect(events.find((e) => e.seq === deleted)?.type).toBe("message.deleted");
      await refusedWith(ben, { type: "undo", clientId: cid("u") }, ["conflict"], "restore");
    } else {
      expectError(answer, 404, "not_found", "redact a deleted message");
    }
  });
});

describe("undo and redo", () => {
  it("take back and apply again each kind of action, marked with undoes/redoes", async () => {
    const cleo = await signInGuest(server.url, "cleo");
    await refusedWith(cleo, { type: "undo", clientId: cid("u") }, ["conflict"], "nothing to undo");
    await refusedWith(cleo, { type: "redo", clientId: cid("r") }, ["conflict"], "nothing to redo");
    const olgas = await post(server.url, olga, room, "react to me", cid("p"));

    const id = await post(server.url, cleo, room, "v1", cid("p"));
    expect(await step(cleo, "undo")).toMatchObject({
      type: "message.deleted",
      actor: { id: cleo.user.id },
      data: { messageId: id, undoes: id },
    });
    expect((await messageOf(id)).deleted).toBe(true);
    expect(await step(cleo, "redo")).toMatchObject({
      type: "message.restored",
      data: { messageId: id, text: "v1", redoes: id },
    });
    expect(await messageOf(id)).toMatchObject({ text: "v1" });

    const edit = await command(server.url, cleo, room, {
      type: "edit",
      clientId: cid("e"),
      messageId: id,
      text: "v2",
    });
    expect(await step(cleo, "undo")).toMatchObject({
      type: "message.edited",
      data: { messageId: id, text: "v1", undoes: edit },
    });
    expect(await step(cleo, "redo")).toMatchObject({
      type: "message.edited",
      data: { messageId: id, text: "v2", redoes: edit },
    });

    const del = await command(server.url, cleo, room, {
      type: "delete",
      clientId: cid("d"),
      messageId: id,
    });
    expect(await step(cleo, "undo")).toMatchObject({
      type: "message.restored",
      data: { messageId: id, text: "v2", undoes: del },
    });
    expect(await messageOf(id)).toMatchObject({ text: "v2" });

    const react = await command(server.url, cleo, room, {
      type: "react",
      clientId: cid("re"),
      messageId: olgas,
      emoji: "👍",
      on: true,
    });
    expect(await step(cleo, "undo")).toMatchObject({
      type: "reaction.removed",
      data: { messageId: olgas, emoji: "👍", undoes: react },
    });
    expect((await messageOf(olgas)).reactions["👍"] ?? []).not.toContain(cleo.user.id);
    expect(await step(cleo, "redo")).toMatchObject({
      type: "reaction.added",
      data: { messageId: olgas, emoji: "👍", redoes: react },
    });
    expect((await messageOf(olgas)).reactions["👍"]).toContain(cleo.user.id);

    // The undo stack is [post, edit, reaction] (the delete was taken back, and the reaction, a
    // new action, emptied the redo stack): undo takes the reaction, then the edit.
    expect(await step(cleo, "undo")).toMatchObject({ data: { undoes: react } });
    expect(await step(cleo, "undo")).toMatchObject({
      type: "message.edited",
      data: { text: "v1", undoes: edit },
    });
    // A new action empties the redo stack.
    await post(server.url, cleo, room, "something new", cid("p"));
    await refusedWith(cleo, { type: "redo", clientId: cid("r") }, ["conflict"], "redo after new");
  });

  it("someone else's hand: conflict for the author, delete_any for the moderator", async () => {
    const dora = await signInGuest(server.url, "dora");
    const mod = await register(server.url, "modi");
    await invite(server.url, olga, room, "modi", "moderator");
    const id = await post(server.url, dora, room, "moderate me", cid("p"));
    const deleted = await command(server.url, mod, room, {
      type: "delete",
      clientId: cid("d"),
      messageId: id,
    });
    // dora's post was deleted by someone else since: it cannot be taken back.
    await refusedWith(dora, { type: "undo", clientId: cid("u") }, ["conflict"], "dora undo");
    // The moderator takes back their delete, and applies it again (the delete_any power).
    expect(await step(mod, "undo")).toMatchObject({
      type: "message.restored",
      actor: { id: mod.user.id },
      data: { messageId: id, text: "moderate me", undoes: deleted },
    });
    expect(await step(mod, "redo")).toMatchObject({
      type: "message.deleted",
      data: { messageId: id, redoes: deleted },
    });
    // Demoted, they no longer have the power: forbidden, nothing changes.
    await command(server.url, olga, room, {
      type: "role",
      clientId: cid("role"),
      userId: mod.user.id,
      role: "member",
    });
    await refusedWith(mod, { type: "undo", clientId: cid("u") }, ["forbidden"], "demoted undo");
    await command(server.url, olga, room, {
      type: "role",
      clientId: cid("role"),
      userId: mod.user.id,
      role: "moderator",
    });
    expect(await step(mod, "undo")).toMatchObject({
      type: "message.restored",
      data: { messageId: id, undoes: deleted },
    });
    expect((await messageOf(id)).deleted).toBeUndefined();
  });

  it("a muted user may only undo or redo into a message.deleted", async () => {
    const eli = await signInGuest(server.url, "eli");
    const olgas = await post(server.url, olga, room, "react here", cid("p"));
    await command(server.url, eli, room, {
      type: "react",
      clientId: cid("re"),
      messageId: olgas,
      emoji: "🎉",
      on: true,
    });
    const id = await post(server.url, eli, room, "muted soon", cid("p"));
    await command(server.url, mona, room, {
      type: "mute",
      clientId: cid("mute"),
      userId: eli.user.id,
      seconds: 600,
    });
    // Undo of a post is a message.deleted: allowed.
    expect(await step(eli, "undo")).toMatchObject({
      type: "message.deleted",
      data: { messageId: id, undoes: id },
    });
    // Redo would restore it; the next undo would remove a reaction: both forbidden.
    await refusedWith(eli, { type: "redo", clientId: cid("r") }, ["forbidden"], "muted redo");
    await refusedWith(eli, { type: "undo", clientId: cid("u") }, ["forbidden"], "muted undo");
    await command(server.url, mona, room, {
      type: "unmute",
      clientId: cid("unmute"),
      userId: eli.user.id,
    });
    expect(await step(eli, "redo")).toMatchObject({
      type: "message.restored",
      data: { messageId: id, text: "muted soon", redoes: id },
    });
  });

  it("over HTTP a non-member of a private room gets the room's 404, a banned user 403", async () => {
    const priv = roomName("undopriv");
    await createRoom(server.url, olga, priv, "private");
    await post(server.url, olga, priv, "inside", cid("p"));
    const ghost = roomName("undoghost");
    for (const frame of [
      { type: "undo", clientId: cid("u") },
      { type: "redo", clientId: cid("r") },
      { type: "redact", clientId: cid("rd"), messageId: 3 },
    ]) {
      const inside = await call(server.url, "POST", `/api/rooms/${priv}/commands`, {
        token: amy.token,
        body: frame,
      });
      const never = await call(server.url, "POST", `/api/rooms/${ghost}/commands`, {
        token: amy.token,
        body: frame,
      });
      expectError(inside, 404, "not_found", `${frame.type} in a private room`);
      expect(errorPart(inside.json)).toEqual(errorPart(never.json));
    }
    // ben posted in the public room: banned, he may not take anything back nor redact it.
    const bens = await post(server.url, ben, room, "ben's last", cid("p"));
    await command(server.url, olga, room, {
      type: "ban",
      clientId: cid("ban"),
      userId: ben.user.id,
    });
    const before = await snapshot(server.url, olga, room);
    for (const frame of [
      { type: "undo", clientId: cid("u") },
      { type: "redo", clientId: cid("r") },
      { type: "redact", clientId: cid("rd"), messageId: bens },
    ])
      await refusedCommand(
        server.url,
        ben,
        room,
        frame,
        [403, "forbidden"],
        `banned ${frame.type}`,
      );
    await expectUnchanged(server.url, olga, room, before);
  });
});
