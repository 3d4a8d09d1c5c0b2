import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EventLog } from "../../src/room/log.ts";
import { rebuildProjections } from "../../src/room/project.ts";
import { COMMAND_TTL_MS } from "../../src/room/idempotency.ts";
import type { Room } from "../../src/room/room.ts";
import { migrate, PROJECTION_TABLES } from "../../src/room/schema.ts";
import { Client, guest, newRoom, roomStub } from "./helpers.ts";

const dump = (sql: SqlStorage) =>
  Object.fromEntries(
    PROJECTION_TABLES.map((table) => [
      table,
      sql.exec(`SELECT * FROM ${table} ORDER BY 1, 2`).toArray(),
    ]),
  );

describe("the Room object", () => {
  it("applies its schema migration once", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    await runInDurableObject(roomStub(room), (_instance: Room, state) => {
      expect(migrate(state.storage)).toEqual({ version: 17, rebuild: false });
      expect(migrate(state.storage)).toEqual({ version: 17, rebuild: false });
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM schema_version").one().n).toBe(1);
    });
  });

  it("writes events and projections together, and the log rebuilds every projection", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const stub = roomStub(room);
    const post = async (who: typeof ada, text: string, clientId: string) =>
      stub.command({ type: "post", clientId, text }, who.user);
    const first = await post(ada, "one", "a1");
    const second = await post(bob, "two", "b1");
    if (!first.ok || !second.ok) throw new Error("post refused");
    await stub.command(
      { type: "react", clientId: "b2", messageId: first.value.seq, emoji: "👍", on: true },
      bob.user,
    );
    await stub.command(
      { type: "react", clientId: "a2", messageId: first.value.seq, emoji: "🎉", on: true },
      ada.user,
    );
    await stub.command(
      { type: "react", clientId: "a3", messageId: first.value.seq, emoji: "🎉", on: false },
      ada.user,
    );
    await stub.command(
      { type: "edit", clientId: "b3", messageId: second.value.seq, text: "two!" },
      bob.user,
    );
    await stub.command({ type: "delete", clientId: "a4", messageId: first.value.seq }, ada.user);
    await stub.command({ type: "topic", clientId: "a5", topic: "news" }, ada.user);
    await stub.command({ type: "leave", clientId: "b4" }, bob.user);

    await runInDurableObject(stub, (_instance: Room, state) => {
      const sql = state.storage.sql;
      const log = new EventLog(sql);
      const events = log.range(0, 1000);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1)); // contiguous from 1
      expect(events.map((e) => e.type)).toEqual([
        "room.created",
        "member.joined",
        "message.posted",
        "member.joined",
        "message.posted",
        "reaction.added",
        "reaction.added",
        "reaction.removed",
        "message.edited",
        "message.deleted",
        "room.topic_changed",
        "member.left",
      ]);
      const before = dump(sql);
      expect(before.room).toMatchObject([{ name: room, topic: "news" }]);
      expect(before.members).toHaveLength(1);
      rebuildProjections(state.storage, () => log.range(0, 1_000_000));
      expect(dump(sql)).toEqual(before);
    });
  });

  it("refuses a command whose write fails alone: the rest of its batch is stored, seqs contiguous", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    await runInDurableObject(roomStub(room), async (instance: Room, state) => {
      const sql = state.storage.sql;
      // A storage fault for one message: the insert of its projection throws.
      sql.exec(
        "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.text = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
      );
      const post = (clientId: string, text: string) =>
        instance.command({ type: "post", clientId, text }, ada.user);
      // The first runs at once; the rest arrive while it commits and share the next turn.
      const results = await Promise.all([
        post("a", "a"),
        instance.command({ type: "topic", clientId: "t", topic: "before boom" }, ada.user),
        post("boom", "boom"),
        post("c", "c"),
      ]);
      sql.exec("DROP TRIGGER boom");
      expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
      expect(results[2]).toMatchObject({ ok: false, error: { code: "internal" } });
      const log = new EventLog(sql);
      const events = log.range(0, 1000);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.slice(-3).map((e) => e.type)).toEqual([
        "message.posted",
        "room.topic_changed",
        "message.posted",
      ]);
      // What the room keeps in memory followed the rollback: a retry of the refused one goes in.
      expect(await post("boom", "boom")).toMatchObject({ ok: true });
      expect((await instance.info(ada.user)).ok && (await instance.info(ada.user))).toMatchObject({
        value: { topic: "before boom" },
      });
    });
  });

  it("keeps idempotency keys 24 hours and expires them with the alarm", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const stub = roomStub(room);
    const posted = await stub.command({ type: "post", clientId: "once", text: "hi" }, ada.user);
    const again = await stub.command({ type: "post", clientId: "once", text: "hi" }, ada.user);
    expect(again).toEqual(posted);

    // Age the key past its lifetime, then run the alarm the schedule armed for it.
    await runInDurableObject(stub, async (_instance: Room, state) => {
      const due = (task: string) =>
        state.storage.sql
          .exec<{ due: number }>("SELECT due FROM schedule WHERE task = ?", task)
          .one().due;
      // The alarm comes first for the metrics push; the key's expiry waits in the schedule.
      expect(due("expire-commands")).toBeGreaterThan(Date.now() + COMMAND_TTL_MS - 60_000);
      state.storage.sql.exec("UPDATE commands SET at = at - ?", COMMAND_TTL_MS + 1);
      state.storage.sql.exec("UPDATE schedule SET due = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance: Room, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM commands").one().n).toBe(0);
      expect(
        state.storage.sql
          .exec("SELECT count(*) AS n FROM schedule WHERE task = 'expire-commands'")
          .one().n,
      ).toBe(0);
    });
    // An expired key no longer deduplicates: the same clientId makes a new event.
    const later = await stub.command({ type: "post", clientId: "once", text: "hi" }, ada.user);
    expect(later.ok && posted.ok && later.value.seq).toBe(posted.ok && posted.value.seq + 1);
  });

  it("re-arms the alarm for keys that are not due yet", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const stub = roomStub(room);
    await stub.command({ type: "post", clientId: "old", text: "a" }, ada.user);
    await stub.command({ type: "post", clientId: "new", text: "b" }, ada.user);
    await runInDurableObject(stub, async (_instance: Room, state) => {
      state.storage.sql.exec(
        "UPDATE commands SET at = at - ? WHERE client_id = 'old'",
        COMMAND_TTL_MS + 1,
      );
      state.storage.sql.exec("UPDATE schedule SET due = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now() - 1);
    });
    await runDurableObjectAlarm(stub);
    await runInDurableObject(stub, async (_instance: Room, state) => {
      const keys = state.storage.sql
        .exec<{ client_id: string }>("SELECT client_id FROM commands")
        .toArray();
      expect(keys.map((k) => k.client_id)).toEqual(["new"]);
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now());
    });
  });

  it("survives being rebuilt from storage and socket attachments (hibernation)", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const a = await Client.open(room, ada);
    const b = await Client.open(room, bob);
    a.send({ type: "post", clientId: "p1", text: "before" });
    const ack = await a.next("ack");
    expect((await b.next("event")).event).toMatchObject({ seq: ack.seq, type: "message.posted" });

    // Evicting keeps hibernatable sockets open and throws away the instance and its memory.
    await evictDurableObject(roomStub(room));

    a.send({ type: "post", clientId: "p2", text: "after" });
    const after = await a.next("ack");
    expect(after.seq).toBe(ack.seq + 1);
    const seen = (await b.next("event")).event;
    expect(seen).toMatchObject({
      seq: after.seq,
      actor: { id: ada.user.id, name: "ada" },
      data: { text: "after" },
    });
    // Identity and idempotency came back from the attachment and from SQLite.
    a.send({ type: "post", clientId: "p1", text: "before" });
    expect((await a.next("ack")).seq).toBe(ack.seq);
    b.send({ type: "edit", clientId: "e1", messageId: ack.seq, text: "mine?" });
    expect(await b.next("error")).toMatchObject({ code: "forbidden", clientId: "e1" });
    a.close();
    b.close();
  });
});

describe("sockets", () => {
  it("greets with welcome, replays since, then goes live", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const stub = roomStub(room);
    for (let i = 0; i < 3; i++)
      await stub.command({ type: "post", clientId: `c${i}`, text: `m${i}` }, ada.user);
    const client = await Client.open(room, ada, 3);
    expect((await client.next("event")).event.seq).toBe(4);
    expect((await client.next("event")).event.seq).toBe(5);
    client.send({ type: "ping" });
    await client.next("pong");
    client.send("not json");
    expect(await client.next("error")).toMatchObject({ code: "bad_request" });
    client.close();
  });

  it("sends a gap frame and the newest 1000 when more were missed", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    // Queued at once, so the room writes them in group commits.
    await runInDurableObject(roomStub(room), (instance: Room) =>
      Promise.all(
        Array.from({ length: 1100 }, (_, i) =>
          instance.command({ type: "post", clientId: `c${i}`, text: `m${i}` }, ada.user),
        ),
      ),
    );
    const client = await Client.open(room, ada, 0);
    expect(await client.next("gap")).toEqual({ type: "gap", after: 0, before: 103 });
    const first = await client.next("event");
    expect(first.event.seq).toBe(103);
    client.close();
  });
});
