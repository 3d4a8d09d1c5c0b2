import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  contentHashOf,
  GENESIS_HASH,
  linkHash,
  type Command,
  type Message,
  type RoomEvent,
  type Session,
} from "../../src/protocol/index.ts";
import { EventLog } from "../../src/room/log.ts";
import { rebuildProjections } from "../../src/room/project.ts";
import type { Room } from "../../src/room/room.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

let ids = 0;
/** Sends `command` (without a clientId) as `who`; the room's result. */
async function run(room: string, who: Session, command: Record<string, unknown>) {
  return roomStub(room).command({ clientId: `c${++ids}`, ...command } as Command, who.user);
}
async function ok(room: string, who: Session, command: Record<string, unknown>): Promise<number> {
  const result = await run(room, who, command);
  if (!result.ok) throw new Error(`${String(command.type)}: ${result.error.message}`);
  return result.value.seq;
}

async function message(room: string, who: Session, id: number): Promise<Message | undefined> {
  const page = await roomStub(room).messages(who.user, id + 1, 1);
  if (!page.ok) throw new Error(page.error.message);
  return page.value.messages.find((m) => m.id === id);
}

async function events(room: string, who: Session): Promise<RoomEvent[]> {
  const page = await roomStub(room).events(who.user, 0, 1000);
  if (!page.ok) throw new Error(page.error.message);
  return page.value.events;
}

describe("undo and redo", () => {
  it("take back and apply again a post, an edit, a delete and a reaction, by compensating events", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const id = await ok(room, ada, { type: "post", text: "first" });
    await ok(room, ada, { type: "edit", messageId: id, text: "second" });
    await ok(room, ada, { type: "react", messageId: id, emoji: "👍", on: true });

    await ok(room, ada, { type: "undo" }); // the reaction
    expect((await message(room, ada, id))?.reactions).toEqual({});
    await ok(room, ada, { type: "undo" }); // the edit
    expect((await message(room, ada, id))?.text).toBe("first");
    await ok(room, ada, { type: "redo" }); // the edit again
    expect((await message(room, ada, id))?.text).toBe("second");
    await ok(room, ada, { type: "redo" }); // the reaction again
    expect((await message(room, ada, id))?.reactions).toEqual({ "👍": [ada.user.id] });
    expect(await run(room, ada, { type: "redo" })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });

    await ok(room, ada, { type: "delete", messageId: id });
    expect(await message(room, ada, id)).toMatchObject({ deleted: true, text: "", reactions: {} });
    await ok(room, ada, { type: "undo" }); // the delete: restored, with its reaction
    expect(await message(room, ada, id)).toMatchObject({
      text: "second",
      reactions: { "👍": [ada.user.id] },
    });
    expect((await message(room, ada, id))?.deleted).toBeUndefined();

    const log = await events(room, ada);
    // Nothing was rewritten: every step is an event of its own, marked as what it undoes or redoes.
    expect(
      log
        .slice(2)
        .map((e) => [e.type, "undoes" in e.data ? "undo" : "redoes" in e.data ? "redo" : ""]),
    ).toEqual([
      ["message.posted", ""],
      ["message.edited", ""],
      ["reaction.added", ""],
      ["reaction.removed", "undo"],
      ["message.edited", "undo"],
      ["message.edited", "redo"],
      ["reaction.added", "redo"],
      ["message.deleted", ""],
      ["message.restored", "undo"],
    ]);
  });

  it("undoes a post by deleting it; a new action empties the redo stack; undo is per user", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const mine = await ok(room, ada, { type: "post", text: "mine" });
    const his = await ok(room, bob, { type: "post", text: "his" });
    await ok(room, ada, { type: "undo" });
    expect((await message(room, ada, mine))?.deleted).toBe(true);
    expect((await message(room, ada, his))?.deleted).toBeUndefined();
    await ok(room, ada, { type: "post", text: "another" });
    expect(await run(room, ada, { type: "redo" })).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    // Undo reaches back past the newer post once it is undone, to nothing of hers.
    await ok(room, ada, { type: "undo" });
    expect(await run(room, ada, { type: "undo" })).toMatchObject({
      ok: false,
      error: { code: "conflict", message: /redacted|deleted|nothing/ },
    });
  });

  it("refuses to undo what someone else changed since", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const id = await ok(room, bob, { type: "post", text: "oops" });
    await ok(room, ada, { type: "delete", messageId: id }); // the owner deletes bob's post
    expect(await run(room, bob, { type: "undo" })).toMatchObject({
      ok: false,
      error: { code: "conflict", message: new RegExp(`message ${id} was deleted`) },
    });
    await ok(room, ada, { type: "undo" }); // the owner's own delete: restored
    expect((await message(room, ada, id))?.text).toBe("oops");
  });
});

describe("redaction", () => {
  it("empties the text everywhere in the room's storage while the chain verifies", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const secret = "my card number is 4111 1111 1111 1111";
    const id = await ok(room, bob, { type: "post", text: secret });
    await ok(room, bob, { type: "edit", messageId: id, text: `${secret}!` });
    expect(await run(room, bob, { type: "redact", messageId: id + 100 })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    const other = await guest("eve");
    expect(await run(room, other, { type: "redact", messageId: id })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    const seq = await ok(room, ada, { type: "redact", messageId: id, reason: "legal request" });
    expect(await ok(room, ada, { type: "redact", messageId: id })).toBe(seq); // twice: a no-op

    expect(await message(room, ada, id)).toMatchObject({ id, text: "", redacted: true });
    const log = await events(room, ada);
    const carried = log.filter((e) => e.type === "message.posted" || e.type === "message.edited");
    expect(carried.map((e) => [e.redacted, "text" in e.data && e.data.text])).toEqual([
      [true, ""],
      [true, ""],
    ]);
    expect(log.at(-1)).toMatchObject({
      type: "message.redacted",
      data: { messageId: id, reason: "legal request" },
    });
    // The words, not a few digits: random ids and hashes hold "4111" now and then.
    expect(JSON.stringify(log)).not.toContain("card number");
    expect(JSON.stringify(log)).not.toContain("4111 1111");

    const report = await roomStub(room).auditVerify(ada.user);
    expect(report).toMatchObject({ ok: true, value: { ok: true, lastSeq: seq } });

    // Nothing in the room's tables holds the text, and a redacted message cannot come back.
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      for (const table of ["events", "messages", "snapshots"]) {
        const exists = state.storage.sql
          .exec("SELECT 1 FROM sqlite_master WHERE name = ?", table)
          .toArray().length;
        if (!exists) continue;
        const rows = state.storage.sql.exec(`SELECT * FROM ${table}`).toArray();
        expect(JSON.stringify(rows)).not.toContain("card number");
        expect(JSON.stringify(rows)).not.toContain("4111 1111");
      }
    });
    expect(await run(room, bob, { type: "edit", messageId: id, text: "back" })).toMatchObject({
      ok: false,
    });
    expect(await run(room, bob, { type: "undo" })).toMatchObject({
      ok: false,
      error: { code: "conflict", message: /redacted/ },
    });
  });

  it("is served over HTTP: the export carries the redaction, the message page its flag", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const id = await ok(room, ada, { type: "post", text: "to be gone" });
    await ok(room, ada, { type: "redact", messageId: id });
    const exported = await (
      await call(`/api/rooms/${room}/audit/export`, { token: ada.token })
    ).text();
    const lines = exported
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.find((e) => e.seq === id)).toMatchObject({
      data: { text: "" },
      redactedBy: id + 1,
    });
    expect(exported).not.toContain("to be gone");
  });
});

describe("versioned events", () => {
  it("serves a version-1 event stored by older code in the current shape, its chain intact", async () => {
    const ada = await guest("ada");
    const room = `old-${crypto.randomUUID().slice(0, 8)}`;
    // What a room written before room.created's version 2 holds: no `shards`, version 1.
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      const log: { type: string; data: unknown }[] = [
        { type: "room.created", data: { name: room, topic: "old", visibility: "public" } },
        { type: "member.joined", data: {} },
        { type: "message.posted", data: { text: "from long ago" } },
      ];
      let prevHash = GENESIS_HASH;
      log.forEach(({ type, data }, i) => {
        const fields = {
          seq: i + 1,
          id: `old-${i + 1}`,
          type,
          at: 1_700_000_000_000 + i,
          actor: { id: ada.user.id, name: ada.user.name },
          contentHash: contentHashOf(data),
          prevHash,
        };
        const hash = linkHash(fields);
        state.storage.sql.exec(
          "INSERT INTO events (seq, id, type, at, actor_id, actor_name, data, content_hash, prev_hash, hash, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          fields.seq,
          fields.id,
          type,
          fields.at,
          ada.user.id,
          ada.user.name,
          JSON.stringify(data),
          fields.contentHash,
          prevHash,
          hash,
          type === "message.posted" ? fields.seq : null,
        );
        prevHash = hash;
      });
      rebuildProjections(state.storage, () => new EventLog(state.storage.sql).all());
    });
    // The object started before these rows existed: let it start again and read them.
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      try {
        state.abort("restart to read the old rows");
      } catch {
        // abort throws into the caller by design
      }
    }).catch(() => undefined);
    const served = await events(room, ada);
    expect(served[0]).toMatchObject({
      type: "room.created",
      data: { name: room, topic: "old", visibility: "public", shards: 0 },
    });
    expect(await roomStub(room).auditVerify(ada.user)).toMatchObject({
      ok: true,
      value: { ok: true, lastSeq: 3 },
    });
    // New events follow in the current version, and the chain goes on from the old head.
    const id = await ok(room, ada, { type: "post", text: "today" });
    expect(id).toBe(4);
    expect(await roomStub(room).auditVerify(ada.user)).toMatchObject({
      value: { ok: true, lastSeq: 4 },
    });
  });
});
