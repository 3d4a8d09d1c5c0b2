import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Command, Message, NewEvent, RoomStateAt, Session } from "../../src/protocol/index.ts";
import type { RuleInput } from "../../src/protocol/automation.ts";
import { EMPTY_ROSTER, foldRoster, type Roster } from "../../src/room/history.ts";
import { EventLog } from "../../src/room/log.ts";
import { rebuildProjections } from "../../src/room/project.ts";
import type { Room } from "../../src/room/room.ts";
import { SNAPSHOT_EVERY } from "../../src/room/snapshots.ts";
import { TimeTravel } from "../../src/room/time-travel.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

type Stub = ReturnType<typeof roomStub>;
/** A command without its clientId (the script numbers them). */
type Bare<C> = C extends Command ? Omit<C, "clientId"> : never;
type BareCommand = Bare<Command>;

/** The room as the live projections serve it now, in the shape `stateAt` answers. */
async function live(stub: Stub, who: Session): Promise<Omit<RoomStateAt, "at">> {
  const info = await stub.info(who.user);
  const members = await stub.members(who.user);
  const messages = await stub.messages(who.user, undefined, 200);
  if (!info.ok || !members.ok || !messages.ok) throw new Error("live read refused");
  return {
    seq: info.value.lastSeq,
    room: {
      name: info.value.name,
      topic: info.value.topic,
      visibility: info.value.visibility,
      slowModeSeconds: info.value.slowModeSeconds ?? 0,
      ownerId: members.value.members.find((m) => m.role === "owner")!.id,
    },
    members: members.value.members,
    messages: messages.value.messages,
    nextBefore: null,
  };
}

/** What a redaction does to the past: the message's text is gone at every seq. */
const asRedacted = (m: Message): Message => ({ ...m, text: "", redacted: true });

describe("time travel", () => {
  it("answers, for every seq of a scripted room, exactly what the live projections served then", async () => {
    const [ada, bob, cy] = await Promise.all([guest("ada"), guest("bob"), guest("Cyd")]);
    const name = await newRoom(ada);
    const stub = roomStub(name);
    let n = 0;
    const run = async (who: Session, command: BareCommand) => {
      const result = await stub.command({ ...command, clientId: `c${++n}` } as Command, who.user);
      if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
      return result.value.seq;
    };
    const captured = [await live(stub, ada)];
    const step = async (who: Session, command: BareCommand) => {
      const seq = await run(who, command);
      captured.push(await live(stub, ada));
      return seq;
    };
    const first = await step(ada, { type: "post", text: "first words" });
    const second = await step(bob, { type: "post", text: "bob here", replyTo: first });
    await step(cy, { type: "react", messageId: first, emoji: "👍", on: true });
    await step(bob, { type: "react", messageId: first, emoji: "🎉", on: true });
    await step(ada, { type: "edit", messageId: first, text: "first words, edited" });
    await step(ada, { type: "topic", topic: "the old topic" });
    await step(ada, { type: "role", userId: bob.user.id, role: "moderator" });
    await step(bob, { type: "mute", userId: cy.user.id, seconds: 3600 });
    const third = await step(bob, { type: "post", text: "will be redacted" });
    await step(bob, { type: "delete", messageId: second });
    await step(bob, { type: "undo" }); // restores it
    await step(bob, { type: "edit", messageId: third, text: "still to be redacted" });
    await step(bob, { type: "undo" }); // the edit back
    await step(bob, { type: "redo" });
    await step(ada, { type: "unmute", userId: cy.user.id });
    // Rules and plugins are in the log, not in a room's state: time travel passes over them.
    const rule: RuleInput = {
      name: "Welcome",
      enabled: true,
      trigger: { on: "member_joined" },
      conditions: {},
      actions: [{ do: "post", text: "welcome {user}" }],
    };
    await step(bob, { type: "save_rule", rule });
    await step(ada, { type: "enable_plugin", plugin: "poll" });
    await step(bob, { type: "undo" }); // deletes the rule
    await step(ada, { type: "slow_mode", seconds: 10 });
    await step(ada, { type: "ban", userId: cy.user.id });
    await step(ada, { type: "unban", userId: cy.user.id });
    await step(ada, { type: "topic", topic: "the new topic" });
    await step(ada, { type: "transfer", userId: bob.user.id });
    await step(bob, { type: "redact", messageId: third, reason: "personal data" });
    await step(ada, { type: "leave" });

    for (const then of captured) {
      const state = await stub.stateAt(bob.user, { at: then.seq }, { limit: 200 });
      if (!state.ok) throw new Error(state.error.message);
      const { at, ...rest } = state.value;
      expect(at).toBeGreaterThan(0);
      const messages = then.messages.map((m) => (m.id === third ? asRedacted(m) : m));
      expect(rest, `at seq ${then.seq}`).toEqual({ ...then, messages });
    }
    // The redacted message was never readable after the fact, at any seq it existed at.
    for (let seq = third; seq <= captured.at(-1)!.seq; seq++) {
      const state = await stub.stateAt(ada.user, { at: seq }, { limit: 200 });
      const message = state.ok && state.value.messages.find((m) => m.id === third);
      expect(message, `at seq ${seq}`).toMatchObject({ text: "", redacted: true });
    }
    // The old topic and the first text, as they were.
    const early = await stub.stateAt(bob.user, { at: first + 3 }, { limit: 200 });
    expect(early.ok && early.value.messages.at(-1)?.text).toBe("first words");
  });

  it("pages the messages of a past moment and refuses a seq past the log", async () => {
    const ada = await guest("ada");
    const stub = roomStub(await newRoom(ada));
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await stub.command({ type: "post", clientId: `p${i}`, text: `m${i}` }, ada.user);
      if (r.ok) seqs.push(r.value.seq);
    }
    const at = seqs[3]!;
    const page1 = await stub.stateAt(ada.user, { at }, { limit: 2 });
    if (!page1.ok) throw new Error(page1.error.message);
    expect(page1.value.messages.map((m) => m.text)).toEqual(["m3", "m2"]);
    const page2 = await stub.stateAt(
      ada.user,
      { at },
      { before: page1.value.nextBefore!, limit: 2 },
    );
    expect(page2.ok && page2.value.messages.map((m) => m.text)).toEqual(["m1", "m0"]);
    expect(page2.ok && page2.value.nextBefore).toBeNull();
    const past = await stub.stateAt(ada.user, { at: seqs[4]! + 1 }, { limit: 2 });
    expect(past).toMatchObject({ ok: false, error: { code: "bad_request" } });
    const before = await stub.stateAt(ada.user, { atTime: 1000 }, { limit: 2 });
    expect(before).toMatchObject({ ok: false, error: { code: "bad_request" } });
    const now = await stub.stateAt(ada.user, { atTime: Date.now() + 60_000 }, { limit: 2 });
    expect(now.ok && now.value.seq).toBe(seqs[4]);
  });

  it(`writes a roster snapshot every ${SNAPSHOT_EVERY} events, equal to the fold, and rebuilds them identically`, async () => {
    const ada = await guest("ada");
    const name = await newRoom(ada);
    await runInDurableObject(roomStub(name), (_room: Room, state) => {
      const sql = state.storage.sql;
      const log = new EventLog(sql);
      const users = Array.from({ length: 20 }, (_, i) => ({ id: `u_${i}`, name: `user${i}` }));
      const eventOf = (i: number): NewEvent => {
        if (i % 97 === 0) return { type: "room.topic_changed", data: { topic: `topic ${i}` } };
        if (i % 89 === 0)
          return { type: "member.muted", data: { userId: users[i % 20]!.id, until: 9e12 + i } };
        if (i % 83 === 0) return { type: "member.kicked", data: { userId: users[i % 20]!.id } };
        return { type: "message.posted", data: { text: `message ${i}` } };
      };
      const start = log.lastSeq;
      for (let i = 0; i < 2 * SNAPSHOT_EVERY + 500; i++) {
        const actor = users[i % 20]!;
        state.storage.transactionSync(() => {
          const joins: NewEvent[] = i % 50 === 0 ? [{ type: "member.joined", data: {} }] : [];
          log.append([...joins, eventOf(i)], actor, 1_800_000_000_000 + i);
        });
        log.committed();
      }
      expect(log.lastSeq).toBeGreaterThan(start + 2 * SNAPSHOT_EVERY);
      const snapshots = () =>
        sql
          .exec<{ seq: number; at: number; state: string }>("SELECT * FROM snapshots ORDER BY seq")
          .toArray();
      const written = snapshots();
      expect(written.map((s) => s.seq)).toEqual([SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY]);
      const travel = new TimeTravel(sql, () => log.lastSeq);
      let roster: Roster = EMPTY_ROSTER;
      const checkAt = new Set([1, 999, 1000, 1001, 1777, 2000, 2001, log.lastSeq]);
      for (const event of log.range(0, 1_000_000)) {
        roster = foldRoster(roster, event);
        const snapshot = written.find((s) => s.seq === event.seq);
        if (snapshot) {
          expect(JSON.parse(snapshot.state), `snapshot ${event.seq}`).toEqual(roster);
          expect(snapshot.at).toBe(event.at);
        }
        if (checkAt.has(event.seq))
          expect(travel.rosterAt(event.seq), `seq ${event.seq}`).toEqual(roster);
      }
      rebuildProjections(state.storage, () => log.all());
      expect(snapshots()).toEqual(written);
    });
  });

  it("is documented in the OpenAPI document with its four query parameters", async () => {
    type Operation = { parameters: { name: string; in: string }[]; responses: object };
    const doc = await (
      await call("/api/openapi.json")
    ).json<{ paths: Record<string, { get?: Operation }> }>();
    const get = doc.paths["/api/rooms/{room}/state"]?.get;
    const query = get?.parameters.filter((p) => p.in === "query").map((p) => p.name);
    expect(query?.toSorted()).toEqual(["at", "atTime", "before", "limit"]);
    expect(Object.keys(get?.responses ?? {})).toEqual(["200", "400", "401", "404"]);
  });

  it("gives a room from before schema v9 its snapshots, once, by the rebuild at start", async () => {
    const ada = await guest("ada");
    const stub = roomStub(await newRoom(ada));
    await runInDurableObject(stub, (_room: Room, state) => {
      const log = new EventLog(state.storage.sql);
      const actor = { id: "u_writer", name: "writer" };
      for (let i = 0; i < SNAPSHOT_EVERY; i++) {
        state.storage.transactionSync(() =>
          log.append([{ type: "message.posted", data: { text: `m${i}` } }], actor, Date.now()),
        );
        log.committed();
      }
      // As a room of schema v8 was: no snapshots at all (nor what later versions added).
      state.storage.sql.exec("DROP TABLE snapshots");
      state.storage.sql.exec("DROP TABLE integration_outbox");
      state.storage.sql.exec("DROP TABLE integration_types");
      state.storage.sql.exec("DROP TABLE rules");
      state.storage.sql.exec("DROP TABLE room_plugins");
      state.storage.sql.exec("DROP INDEX events_rule");
      state.storage.sql.exec("DROP TABLE reminders");
      state.storage.sql.exec("DROP TABLE reminders_pending");
      state.storage.sql.exec("DROP TABLE rule_clock");
      state.storage.sql.exec("DROP TABLE plugin_jobs");
      state.storage.sql.exec("DROP TABLE automation_pending");
      state.storage.sql.exec("ALTER TABLE messages DROP COLUMN attachments");
      state.storage.sql.exec("DROP TABLE transcriptions_pending");
      state.storage.sql.exec("DROP TABLE uploads");
      state.storage.sql.exec("DROP TABLE upload_parts");
      state.storage.sql.exec("DROP TABLE file_deletions");
      state.storage.sql.exec("UPDATE schema_version SET version = 8");
    });
    await evictDurableObject(stub);
    const then = await stub.stateAt(ada.user, { at: SNAPSHOT_EVERY + 1 }, { limit: 1 });
    expect(then).toMatchObject({ ok: true, value: { seq: SNAPSHOT_EVERY + 1 } });
    await runInDurableObject(stub, (_room: Room, state) => {
      const seqs = state.storage.sql.exec("SELECT seq FROM snapshots").toArray();
      expect(seqs).toEqual([{ seq: SNAPSHOT_EVERY }]);
    });
  });
});
