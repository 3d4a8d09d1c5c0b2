/**
 * Reminders inside workerd (docs/automation.md, "Schedules and reminders"): the room's clock
 * fires them at its alarm, a `me` one waits for its author's next socket, a replayed alarm posts
 * a `here` one once, a recurring one moves on; who sees and cancels which; `/remind`.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Reminder } from "../../src/protocol/automation.ts";
import type { ReminderList } from "../../src/protocol/reminders.ts";
import type { RoomEvent, Session, SlashResult } from "../../src/protocol/index.ts";
import { nextCronTime, nextTimes } from "../../src/automation/cron.ts";
import { REMINDERS_BOT } from "../../src/room/reminders.ts";
import type { Room } from "../../src/room/room.ts";
import { call, Client, guest, newRoom, roomStub } from "./helpers.ts";

const remind = async (who: Session, room: string, body: unknown) =>
  call(`/api/rooms/${room}/reminders`, { method: "POST", token: who.token, json: body });

async function created(who: Session, room: string, body: unknown): Promise<Reminder> {
  const res = await remind(who, room, body);
  if (res.status !== 201) throw new Error(`reminder: ${res.status} ${await res.text()}`);
  return res.json();
}

const list = async (who: Session, room: string): Promise<Reminder[]> => {
  const res = await call(`/api/rooms/${room}/reminders`, { token: who.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as ReminderList).reminders;
};

async function posts(room: string): Promise<RoomEvent[]> {
  const page = await roomStub(room).events({ id: "root", name: "root", admin: true }, 0, 1000);
  if (!page.ok) throw new Error(page.error.message);
  return page.value.events.filter(
    (e) => e.type === "message.posted" && e.actor.id === REMINDERS_BOT.id,
  );
}

/** Makes reminder `id` due now (and the clock with it), then runs the room's alarm. */
async function fireNow(room: string, id: string): Promise<void> {
  await runInDurableObject(roomStub(room), (_room: Room, state) => {
    const past = Date.now() - 1000;
    state.storage.sql.exec("UPDATE reminders SET at = ? WHERE id = ?", past, id);
    state.storage.sql.exec("INSERT OR REPLACE INTO schedule (task, due) VALUES ('clock', ?)", past);
  });
  expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
}

async function waitFor<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the clock", () => {
  it("fires a `me` reminder at its alarm, to its author's socket alone", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const adaSocket = await Client.open(room, ada);
    const bobSocket = await Client.open(room, bob);
    const at = Date.now() + 1000;
    const reminder = await created(ada, room, { to: "me", text: "check the deploy", at });
    expect(reminder).toMatchObject({
      to: "me",
      text: "check the deploy",
      at,
      by: { id: ada.user.id, name: "ada" },
    });
    expect(reminder.id).toMatch(/^rem_[0-9a-f]{16}$/);
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      const due = state.storage.sql.exec("SELECT due FROM schedule WHERE task = 'clock'").one();
      expect(due.due).toBe(at);
    });

    // The real alarm, in real time.
    const frame = await adaSocket.next("ephemeral", 10_000);
    expect(frame).toEqual({
      type: "ephemeral",
      text: "⏰ Reminder: check the deploy",
      from: REMINDERS_BOT,
      at,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(await list(ada, room)).toEqual([]);
    expect(bobSocket.frames.some((f) => f.type === "ephemeral")).toBe(false);
    // Never in the log.
    const { events } = await (
      await call(`/api/rooms/${room}/events?after=0&limit=100`, { token: ada.token })
    ).json<{ events: RoomEvent[] }>();
    expect(JSON.stringify(events)).not.toContain("check the deploy");
    adaSocket.close();
    bobSocket.close();
  });

  it("keeps a `me` reminder that fell due with no socket open for the author's next one", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const reminder = await created(ada, room, { to: "me", text: "stretch", at: Date.now() + 600 });
    await waitFor(async () => ((await list(ada, room)).length === 0 ? true : undefined), "firing");
    const socket = await Client.open(room, ada);
    expect(await socket.next("ephemeral", 1000)).toEqual({
      type: "ephemeral",
      text: "⏰ Reminder: stretch",
      from: REMINDERS_BOT,
      at: reminder.at,
    });
    // Sent once: a second socket gets nothing.
    const again = await Client.open(room, ada);
    await expect(again.next("ephemeral", 300)).rejects.toThrow(/no ephemeral frame/);
    socket.close();
    again.close();
  });

  it("reaches an author whose socket lives on one of a big room's fan-out shards", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "sharded", 2);
    const socket = await Client.open(room, ada);
    const at = Date.now() + 800;
    await created(ada, room, { to: "me", text: "on a shard", at });
    expect(await socket.next("ephemeral", 10_000)).toMatchObject({
      text: "⏰ Reminder: on a shard",
      at,
    });
    socket.close();
    // Offline now: kept, and handed to the shard's greeting of the next socket.
    await waitFor(async () => {
      const { value } = (await roomStub(room).members(ada.user)) as {
        value: { online: unknown[] };
      };
      return value.online.length === 0 ? true : undefined;
    }, "ada offline");
    const later = await created(ada, room, { to: "me", text: "while away", at: Date.now() + 300 });
    await waitFor(async () => ((await list(ada, room)).length === 0 ? true : undefined), "firing");
    const again = await Client.open(room, ada);
    expect(await again.next("ephemeral", 2000)).toMatchObject({
      text: "⏰ Reminder: while away",
      at: later.at,
    });
    again.close();
  });

  it("posts a `here` reminder once, even when the alarm that fired it is replayed", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const reminder = await created(ada, room, {
      to: "here",
      text: "stand-up",
      at: Date.now() + 500,
    });
    const [post] = await waitFor(
      async () => ((await posts(room)).length > 0 ? posts(room) : undefined),
      "the bot's post",
    );
    expect(post).toMatchObject({
      actor: { id: REMINDERS_BOT.id, name: REMINDERS_BOT.name },
      data: { text: "⏰ Reminder from ada: stand-up" },
    });
    // Moved on once the post's answer came back.
    await waitFor(async () => ((await list(ada, room)).length === 0 ? true : undefined), "removal");

    // A crash between the post and the reminder's removal: the row is still there, due, and the
    // clock's task was already taken off the schedule. The object starts again (evicted), and
    // its clock finds the due reminder and fires it again: the same clientId, so no new post.
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      state.storage.sql.exec(
        `INSERT INTO reminders (id, user_id, actor, target, text, at, cron, time_zone, client_id, created_at)
         VALUES (?, ?, ?, 'here', ?, ?, NULL, NULL, NULL, ?)`,
        reminder.id,
        ada.user.id,
        JSON.stringify({ id: ada.user.id, name: ada.user.name, kind: "guest" }),
        reminder.text,
        reminder.at,
        reminder.createdAt,
      );
      state.storage.sql.exec("DELETE FROM schedule WHERE task = 'clock'");
    });
    await evictDurableObject(roomStub(room));
    await waitFor(async () => ((await list(ada, room)).length === 0 ? true : undefined), "refire");
    expect(await posts(room)).toEqual([post]);

    // The control: the same crash with the bot's idempotency key gone posts a second time, so it
    // is the key that kept the replay from posting.
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      state.storage.sql.exec(
        `INSERT INTO reminders (id, user_id, actor, target, text, at, cron, time_zone, client_id, created_at)
         VALUES (?, ?, ?, 'here', ?, ?, NULL, NULL, NULL, ?)`,
        reminder.id,
        ada.user.id,
        JSON.stringify({ id: ada.user.id, name: ada.user.name, kind: "guest" }),
        reminder.text,
        reminder.at,
        reminder.createdAt,
      );
      state.storage.sql.exec("DELETE FROM commands WHERE user_id = ?", REMINDERS_BOT.id);
    });
    await evictDurableObject(roomStub(room));
    await waitFor(async () => ((await posts(room)).length === 2 ? true : undefined), "a 2nd post");
  });

  it("moves a recurring reminder to its next time after it fires", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const hourly = await created(ada, room, {
      to: "here",
      text: "hydrate",
      cron: "0 * * * *",
      timeZone: "Europe/Paris",
    });
    expect(hourly.at).toBe(nextCronTime("0 * * * *", "Europe/Paris", hourly.createdAt));
    await fireNow(room, hourly.id);
    expect((await posts(room)).map((e) => (e.data as { text: string }).text)).toEqual([
      "⏰ Reminder from ada: hydrate",
    ]);
    const [moved] = await list(ada, room);
    expect(moved!.id).toBe(hourly.id);
    expect(moved!.at).toBe(nextCronTime("0 * * * *", "Europe/Paris", Date.now() - 1000));
    expect(moved!.at).toBeGreaterThan(Date.now());
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      const due = state.storage.sql.exec("SELECT due FROM schedule WHERE task = 'clock'").one();
      expect(due.due).toBe(moved!.at);
    });
  });

  it("drops a reminder whose author was banned before it fell due", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const reminder = await created(bob, room, {
      to: "here",
      text: "spam",
      at: Date.now() + 60_000,
    });
    const banned = await roomStub(room).command(
      { type: "ban", clientId: "ban-bob", userId: bob.user.id },
      ada.user,
    );
    expect(banned.ok).toBe(true);
    await fireNow(room, reminder.id);
    expect(await posts(room)).toEqual([]);
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM reminders").one().n).toBe(0);
    });
  });
});

describe("croner inside workerd", () => {
  it("reads time zones and DST as the unit tests pin them in Node", () => {
    const times = (cron: string, zone: string, from: string, count: number) =>
      nextTimes({ on: "schedule", cron, timeZone: zone }, Date.parse(from), count).map((ms) =>
        new Date(ms).toISOString(),
      );
    expect(times("30 2 * * *", "Europe/Paris", "2026-03-28T12:00Z", 2)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
    expect(times("30 1 * * *", "America/New_York", "2026-10-31T12:00Z", 2)).toEqual([
      "2026-11-01T05:30:00.000Z",
      "2026-11-02T06:30:00.000Z",
    ]);
    expect(times("0 9 * * 1", "Europe/Paris", "2026-11-30T08:00Z", 1)).toEqual([
      "2026-12-07T08:00:00.000Z",
    ]);
  });
});

describe("the REST routes", () => {
  it("shows and cancels your own, and the room's `here` ones for moderators", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const later = Date.now() + 3_600_000;
    const bobsMe = await created(bob, room, { to: "me", text: "mine", at: later });
    const bobsHere = await created(bob, room, { to: "here", text: "ours", at: later + 1 });
    const adasMe = await created(ada, room, { to: "me", text: "owner's", at: later + 2 });

    expect((await list(bob, room)).map((r) => r.id)).toEqual([bobsMe.id, bobsHere.id]);
    // The owner moderates: bob's `here` one too, never his `me` one.
    expect((await list(ada, room)).map((r) => r.id)).toEqual([bobsHere.id, adasMe.id]);

    const cancel = (who: Session, id: string) =>
      call(`/api/rooms/${room}/reminders/${id}`, { method: "DELETE", token: who.token });
    expect((await cancel(ada, bobsMe.id)).status).toBe(404);
    expect((await cancel(bob, adasMe.id)).status).toBe(404);
    const cancelled = await cancel(ada, bobsHere.id);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toEqual(bobsHere);
    expect((await cancel(bob, bobsMe.id)).status).toBe(200);
    expect(await list(bob, room)).toEqual([]);
    expect((await cancel(bob, "rem_0000000000000000")).status).toBe(404);
    expect((await cancel(bob, "nope")).status).toBe(400);
  });

  it("refuses bad input with the contract's codes", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada);
    const code = async (who: Session, body: unknown, where = room) => {
      const res = await remind(who, where, body);
      return [res.status, ((await res.json()) as { error?: { code: string } }).error?.code];
    };
    const later = Date.now() + 60_000;
    expect(await code(ada, { to: "me", text: "x" })).toEqual([400, "bad_request"]);
    expect(await code(ada, { to: "me", text: "x", at: later, cron: "0 9 * * 1" })).toEqual([
      400,
      "bad_request",
    ]);
    expect(await code(ada, { to: "me", text: "x", at: Date.now() - 1 })).toEqual([
      400,
      "bad_request",
    ]);
    expect(await code(ada, { to: "me", text: "x", cron: "*/5 * * * *" })).toEqual([
      400,
      "bad_request",
    ]);
    expect(
      await code(ada, { to: "me", text: "x", cron: "0 9 * * 1", timeZone: "Mars/Base" }),
    ).toEqual([400, "bad_request"]);
    expect(await code(ada, { to: "you", text: "x", at: later })).toEqual([400, "bad_request"]);
    expect(await code(ada, { to: "me", text: "x", at: later }, "no-such-room")).toEqual([
      404,
      "not_found",
    ]);
    // A muted member may not have the bot speak for them.
    await roomStub(room).command({ type: "post", clientId: "hi", text: "hi" }, bob.user);
    await roomStub(room).command(
      { type: "mute", clientId: "mute-bob", userId: bob.user.id, seconds: 600 },
      ada.user,
    );
    expect(await code(bob, { to: "here", text: "x", at: later })).toEqual([403, "forbidden"]);
    expect(await code(bob, { to: "me", text: "x", at: later })).toEqual([201, undefined]);
  });

  it("holds each person to 25 reminders in a room, and answers a repeated clientId with the first", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const at = Date.now() + 3_600_000;
    const first = await created(ada, room, { to: "me", text: "0", at, clientId: "c-0" });
    expect(await created(ada, room, { to: "me", text: "0 again", at, clientId: "c-0" })).toEqual(
      first,
    );
    for (let i = 1; i < 25; i++) await created(ada, room, { to: "me", text: `${i}`, at: at + i });
    const over = await remind(ada, room, { to: "me", text: "26th", at });
    expect(over.status).toBe(403);
    expect(await over.json()).toMatchObject({ error: { code: "quota" } });
    expect(await list(ada, room)).toHaveLength(25);
  });
});

describe("/remind", () => {
  const slash = async (who: Session, room: string, text: string, timeZone?: string) => {
    const res = await call(`/api/rooms/${room}/slash`, {
      method: "POST",
      token: who.token,
      json: { text, clientId: crypto.randomUUID(), ...(timeZone && { timeZone }) },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as SlashResult;
  };
  const text = (result: SlashResult) => (result.kind === "ephemeral" ? result.text : "");

  it("sets, lists and cancels, answering ephemerally in the caller's zone", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const set = await slash(
      ada,
      room,
      "/remind me tomorrow at 9:00 to check the deploy",
      "Asia/Tokyo",
    );
    expect(text(set)).toMatch(
      /^I will remind you on \w{3} \d{1,2} \w{3} \d{4}, 09:00 \(Asia\/Tokyo\): check the deploy \(rem_[0-9a-f]{16};/,
    );
    const weekly = await slash(
      ada,
      room,
      "/remind here every monday at 9:30 to plan",
      "Europe/Paris",
    );
    expect(text(weekly)).toMatch(
      /^I will remind the room every monday at 09:30 \(Europe\/Paris\), first on Mon /,
    );
    const listed = text(await slash(ada, room, "/remind list", "Europe/Paris"));
    expect(listed.split("\n")).toHaveLength(3);
    expect(listed).toContain("· you ·");
    expect(listed).toContain("· here, by ada · every monday at 09:30 (Europe/Paris), next Mon ");
    const [first] = await list(ada, room);
    expect(text(await slash(ada, room, `/remind cancel ${first!.id}`))).toBe(
      `Cancelled ${first!.id}: ${first!.text}`,
    );
    expect(text(await slash(ada, room, `/remind cancel ${first!.id}`))).toMatch(
      /^no reminder rem_[0-9a-f]{16} of yours here: \/remind list shows them\.$/,
    );
    expect(await list(ada, room)).toHaveLength(1);
  });

  it("answers a usage mistake with the grammar, and is offered in completion", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    expect(text(await slash(ada, room, "/remind tomorrow standup"))).toMatch(
      /^start with me .* Usage: \/remind me\|here <when> \[to\] <what>/,
    );
    expect(text(await slash(ada, room, "/remind me at 9:00 x", "Not/AZone"))).toMatch(
      /your time zone \(Not\/AZone\) is not known here/,
    );
    const res = await call(`/api/rooms/${room}/slash-commands`, { token: ada.token });
    const { commands } = (await res.json()) as { commands: { name: string }[] };
    expect(commands.map((c) => c.name)).toContain("remind");
  });
});
