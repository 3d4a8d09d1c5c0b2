/**
 * The room's rules at work inside workerd (src/room/automation.ts, docs/automation.md "Rules at
 * work"): the clock rows (`rule_clock`) follow saves, disables, deletes and undos; a schedule
 * fires at its alarm and moves on; a disabled rule does not fire; a due firing replayed (its
 * clock row put back after it ran) posts once; a batch of committed events whose firings a crash
 * cut off (`automation_pending`) is replayed once the object is back, and posts once. Each replay
 * has its control: with the rule's idempotency keys deleted the same replay posts again, so it
 * is the keys that hold.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { nextTimes } from "../../src/automation/cron.ts";
import { ruleActorId } from "../../src/automation/rule-actor.ts";
import type { RuleInput, Trigger } from "../../src/protocol/automation.ts";
import type { RoomEvent } from "../../src/protocol/index.ts";
import { REPLAY_AFTER_MS } from "../../src/room/automation.ts";
import type { Room } from "../../src/room/room.ts";
import { guest, newRoom, roomStub } from "./helpers.ts";

const ROOT = { id: "root", name: "root", admin: true } as const;
let n = 0;
const clientId = () => `c${++n}`;

type Stub = ReturnType<typeof roomStub>;

async function owned() {
  const ada = await guest("ada");
  const bob = await guest("bob");
  const room = await newRoom(ada, "automation");
  const stub = roomStub(room);
  await stub.command({ type: "post", clientId: clientId(), text: "hi" }, bob.user);
  return { ada, bob, room, stub };
}

function rule(name: string, trigger: Trigger, actions: RuleInput["actions"], enabled = true) {
  return { name, enabled, trigger, conditions: {}, actions } satisfies RuleInput;
}

async function save(stub: Stub, by: { id: string; name: string }, input: RuleInput, id: string) {
  const saved = await stub.command(
    { type: "save_rule", clientId: clientId(), rule: input, id },
    by,
  );
  if (!saved.ok) throw new Error(saved.error.message);
  return saved.value.seq;
}

async function events(stub: Stub): Promise<RoomEvent[]> {
  const page = await stub.events(ROOT, 0, 1000);
  if (!page.ok) throw new Error(page.error.message);
  return page.value.events;
}

/** The posts rule `name` made, by its actor's name. */
const postsOf = async (stub: Stub, name: string) =>
  (await events(stub)).filter(
    (e) => e.type === "message.posted" && e.actor.name === `Rule: ${name}`,
  ) as Extract<RoomEvent, { type: "message.posted" }>[];

type ClockRow = { rule_id: string; trigger: string; at: number };
const clockRows = (stub: Stub) =>
  runInDurableObject(stub, (_room: Room, state) =>
    state.storage.sql.exec<ClockRow>("SELECT * FROM rule_clock ORDER BY rule_id").toArray(),
  );
const clockTask = (stub: Stub) =>
  runInDurableObject(
    stub,
    (_room: Room, state) =>
      state.storage.sql
        .exec<{ due: number }>("SELECT due FROM schedule WHERE task = 'clock'")
        .toArray()[0]?.due,
  );
const pendingRows = (stub: Stub) =>
  runInDurableObject(stub, (_room: Room, state) =>
    state.storage.sql.exec("SELECT * FROM automation_pending").toArray(),
  );

async function waitFor<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const SENTINEL = rule("Sentinel", { on: "message", match: { keywords: ["sentinel-check"] } }, [
  { do: "react", emoji: "✅" },
]);

/** Waits until the room's rules have handled everything committed so far (rules-support.ts). */
async function settled(stub: Stub, by: { id: string; name: string }): Promise<void> {
  const posted = await stub.command(
    { type: "post", clientId: clientId(), text: "sentinel-check" },
    by,
  );
  if (!posted.ok) throw new Error(posted.error.message);
  await waitFor(
    async () =>
      (await events(stub)).some(
        (e) =>
          e.type === "reaction.added" &&
          e.actor.name === "Rule: Sentinel" &&
          e.data.messageId === posted.value.seq,
      )
        ? true
        : undefined,
    "the sentinel",
  );
}

const WEEKLY: Trigger = { on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" };
const RL_A = "rl_000000000000000a";
const RL_B = "rl_000000000000000b";
const RL_S = "rl_0000000000000005";

describe("the clock rows", () => {
  it("follow saves, disables, changes, deletes and the undo of a delete", async () => {
    const { ada, stub } = await owned();
    const at = Date.now() + 3_600_000;
    const weekly = rule("Weekly", WEEKLY, [{ do: "post", text: "plan the week" }]);
    const once = rule("Once", { on: "time", at }, [{ do: "post", text: "once" }]);
    const savedAt = Date.now();
    await save(stub, ada.user, weekly, RL_A);
    await save(stub, ada.user, once, RL_B);
    const rows = await clockRows(stub);
    expect(rows.map((r) => [r.rule_id, r.at])).toEqual([
      [RL_A, expect.any(Number)],
      [RL_B, at],
    ]);
    const nextMonday = rows[0]!.at;
    expect([
      nextTimes(WEEKLY, savedAt - 1000, 1)[0],
      nextTimes(WEEKLY, Date.now(), 1)[0],
    ]).toContain(nextMonday);
    // The clock's task comes no later than the earliest row.
    expect(await clockTask(stub)).toBeLessThanOrEqual(at);
    const listed = await stub.rules(ada.user);
    expect(listed.ok && listed.value.rules.map((r) => r.nextAt)).toEqual([nextMonday, at]);

    // Disabled: no row, and listed with no next time; enabled again: back.
    await save(stub, ada.user, { ...weekly, enabled: false }, RL_A);
    expect((await clockRows(stub)).map((r) => r.rule_id)).toEqual([RL_B]);
    const off = await stub.rules(ada.user);
    expect(off.ok && off.value.rules[0]).not.toHaveProperty("nextAt");
    await save(stub, ada.user, weekly, RL_A);
    expect((await clockRows(stub)).map((r) => r.rule_id)).toEqual([RL_A, RL_B]);

    // A changed trigger gets its own next time; an unchanged one keeps the time it had.
    const later = at + 60_000;
    await save(stub, ada.user, { ...once, trigger: { on: "time", at: later } }, RL_B);
    await save(stub, ada.user, { ...weekly, name: "Renamed" }, RL_A);
    expect((await clockRows(stub)).map((r) => [r.rule_id, r.at])).toEqual([
      [RL_A, nextMonday],
      [RL_B, later],
    ]);

    // Deleted: gone; the deleter's undo restores the rule, and with it its time.
    const deleted = await stub.command(
      { type: "delete_rule", clientId: clientId(), ruleId: RL_B },
      ada.user,
    );
    expect(deleted.ok).toBe(true);
    expect((await clockRows(stub)).map((r) => r.rule_id)).toEqual([RL_A]);
    const undone = await stub.command({ type: "undo", clientId: clientId() }, ada.user);
    expect(undone.ok).toBe(true);
    expect((await clockRows(stub)).map((r) => [r.rule_id, r.at])).toEqual([
      [RL_A, nextMonday],
      [RL_B, later],
    ]);
    // A message rule has no row.
    await save(stub, ada.user, SENTINEL, RL_S);
    expect(await clockRows(stub)).toHaveLength(2);
  });

  it("fires a schedule at its alarm, then moves it to its next time", async () => {
    const { ada, room, stub } = await owned();
    const weekly = rule("Weekly", WEEKLY, [{ do: "post", text: "plan the week" }]);
    await save(stub, ada.user, weekly, RL_A);
    await makeDue(stub, Date.now() - 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const posts = await postsOf(stub, "Weekly");
    expect(posts.map((p) => [p.data.text, p.actor.id])).toEqual([
      ["plan the week", ruleActorId(room, RL_A)],
    ]);
    const [moved] = await clockRows(stub);
    expect(moved!.at).toBe(nextTimes(WEEKLY, Date.now(), 1)[0]);
    expect(await clockTask(stub)).toBe(moved!.at);
  });
});

/** Makes every timed rule due at `due`, and the clock's task with it. */
const makeDue = (stub: Stub, due: number) =>
  runInDurableObject(stub, async (_room: Room, state) => {
    state.storage.sql.exec("UPDATE rule_clock SET at = ?", due);
    await clockAt(state, due);
  });

/**
 * Puts the clock's task at `due` and the runtime's alarm with it (runDurableObjectAlarm runs an
 * alarm early and takes it away, behind the schedule's back).
 */
async function clockAt(state: DurableObjectState, due: number): Promise<void> {
  state.storage.sql.exec("INSERT OR REPLACE INTO schedule (task, due) VALUES ('clock', ?)", due);
  await state.storage.setAlarm(due);
}

/** Deletes the idempotency keys of rule `ruleId`'s actor: the controls of the replays below. */
const forgetKeys = (stub: Stub, room: string, ruleId: string) =>
  runInDurableObject(stub, (_room: Room, state) => {
    state.storage.sql.exec("DELETE FROM commands WHERE user_id = ?", ruleActorId(room, ruleId));
  });

describe("a disabled rule", () => {
  it("does not fire, on events or on the clock", async () => {
    const { ada, bob, stub } = await owned();
    await save(stub, ada.user, SENTINEL, RL_S);
    const reply = rule("Reply", { on: "message", match: { keywords: ["help"] } }, [
      { do: "reply", text: "on it" },
    ]);
    await save(stub, ada.user, { ...reply, enabled: false }, RL_A);
    const weekly = rule("Weekly", WEEKLY, [{ do: "post", text: "plan the week" }]);
    await save(stub, ada.user, weekly, RL_B);
    await makeDue(stub, Date.now() - 1000);
    // Disabled with its row due: the save takes the row away, so the alarm has nothing to fire.
    await save(stub, ada.user, { ...weekly, enabled: false }, RL_B);
    await stub.command({ type: "post", clientId: clientId(), text: "help" }, bob.user);
    await runDurableObjectAlarm(stub);
    await settled(stub, ada.user);
    expect(await postsOf(stub, "Reply")).toEqual([]);
    expect(await postsOf(stub, "Weekly")).toEqual([]);
    expect(await clockRows(stub)).toEqual([]);

    // Enabled again, the same rule answers the next post.
    await save(stub, ada.user, reply, RL_A);
    const help = await stub.command({ type: "post", clientId: clientId(), text: "help" }, bob.user);
    await settled(stub, ada.user);
    expect((await postsOf(stub, "Reply")).map((p) => p.data.replyTo)).toEqual([
      help.ok ? help.value.seq : -1,
    ]);
  });
});

describe("replays", () => {
  it("posts a timed rule's firing once when its clock row is put back after it ran", async () => {
    const { ada, room, stub } = await owned();
    const at = Date.now() + 600;
    await save(
      stub,
      ada.user,
      rule("Once", { on: "time", at }, [{ do: "post", text: "once" }]),
      RL_A,
    );
    const [post] = await waitFor(
      async () => ((await postsOf(stub, "Once")).length > 0 ? postsOf(stub, "Once") : undefined),
      "the firing",
    );
    expect(post!.data.text).toBe("once");
    await waitFor(
      async () => ((await clockRows(stub)).length === 0 ? true : undefined),
      "the row gone",
    );

    // A crash between the post and the row's removal: the row is back, due, and the alarm runs
    // again. The same key (rule:<id>:<due>:0): no second post.
    const putBack = () =>
      runInDurableObject(stub, async (_room: Room, state) => {
        state.storage.sql.exec(
          "INSERT INTO rule_clock (rule_id, trigger, at) VALUES (?, ?, ?)",
          RL_A,
          JSON.stringify({ on: "time", at }),
          at,
        );
        await clockAt(state, at);
      });
    await putBack();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await clockRows(stub)).toEqual([]);
    expect(await postsOf(stub, "Once")).toEqual([post]);

    // The control: without the rule's keys the same replay posts again.
    await putBack();
    await forgetKeys(stub, room, RL_A);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await postsOf(stub, "Once")).toHaveLength(2);
  });

  it("replays a batch whose firings a crash cut off, once the object is back, and posts once", async () => {
    const { ada, bob, room, stub } = await owned();
    await save(stub, ada.user, SENTINEL, RL_S);
    const reply = rule("Reply", { on: "message", match: { keywords: ["help"] } }, [
      { do: "reply", text: "on it" },
    ]);
    await save(stub, ada.user, reply, RL_A);
    const help = await stub.command({ type: "post", clientId: clientId(), text: "help" }, bob.user);
    if (!help.ok) throw new Error(help.error.message);
    const seq = help.value.seq;
    const [answer] = await waitFor(
      async () => ((await postsOf(stub, "Reply")).length > 0 ? postsOf(stub, "Reply") : undefined),
      "the reply",
    );
    expect(answer!.data.replyTo).toBe(seq);
    // Carried out: nothing left pending.
    await waitFor(async () => ((await pendingRows(stub)).length === 0 ? true : undefined), "done");

    // A crash after the reply and before its batch was crossed off: the row is back, and the
    // object starts again (evicted). Its clock finds the batch stranded and replays it.
    const strand = () =>
      runInDurableObject(stub, (_room: Room, state) => {
        state.storage.sql.exec(
          "INSERT INTO automation_pending (first_seq, last_seq, at) VALUES (?, ?, ?)",
          seq,
          seq,
          Date.now() - REPLAY_AFTER_MS,
        );
        state.storage.sql.exec("DELETE FROM schedule WHERE task = 'clock'");
      });
    await strand();
    await evictDurableObject(stub);
    await waitFor(
      async () => ((await pendingRows(stub)).length === 0 ? true : undefined),
      "replay",
    );
    await settled(stub, ada.user);
    expect(await postsOf(stub, "Reply")).toEqual([answer]);

    // The control: without the rule's keys the replay posts a second reply to the same post.
    await strand();
    await forgetKeys(stub, room, RL_A);
    await evictDurableObject(stub);
    await waitFor(
      async () => ((await pendingRows(stub)).length === 0 ? true : undefined),
      "replay",
    );
    await settled(stub, ada.user);
    expect((await postsOf(stub, "Reply")).map((p) => p.data.replyTo)).toEqual([seq, seq]);
  });

  it("leaves nothing pending in a room without rules", async () => {
    const { bob, stub } = await owned();
    for (let i = 0; i < 5; i++)
      await stub.command({ type: "post", clientId: clientId(), text: `post ${i}` }, bob.user);
    expect(await pendingRows(stub)).toEqual([]);
    expect(await clockTask(stub)).toBeUndefined();
  });
});
