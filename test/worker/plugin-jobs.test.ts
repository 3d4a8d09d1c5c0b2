/**
 * Plugin jobs on a room's clock, inside workerd with the real Worker Loader (docs/plugins.md, "In
 * a room"): a plugin turned on in a room gets a `plugin_jobs` row at its job's next time; the
 * room's alarm runs the job when it is due and moves it on; an alarm delivered again for the same
 * due time acts once; a plugin turned off there no longer runs. The clock is driven by setting the
 * row due and running the alarm, as a `* * * * *` job would otherwise take a minute.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { Session, type RoomEvent } from "../../src/protocol/index.ts";
import type { Room } from "../../src/room/room.ts";
import { roomPlugin } from "../fixtures/plugins.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return Session.parse(await registered.json());
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return Session.parse(await signedIn.json());
}

/** Each run posts how many times the job ran in this room so far. */
const TICKS = roomPlugin({
  cron: "* * * * *",
  job: `return [{ post: "tick " + (await ctx.store.get("calls")) }];`,
});

let admin: Session;
let plugins = 0;

beforeAll(async () => {
  admin = await root();
  // The pool's first call to a Durable Object class takes seconds: not inside a test's budget.
  await env.PLUGIN_STORAGE.getByName("warm/up").get("warm");
}, 30_000);

/** A room of a fresh owner with a fresh ticking plugin turned on: its name and the plugin's. */
async function tickingRoom(): Promise<{ room: string; plugin: string; owner: Session }> {
  const plugin = `ticks-${++plugins}-${crypto.randomUUID().slice(0, 6)}`;
  const installed = await call(`/api/admin/plugins/${plugin}`, {
    method: "PUT",
    token: admin.token,
    json: { code: TICKS(plugin) },
  });
  expect(installed.status, await installed.clone().text()).toBe(201);
  const owner = await guest("ada");
  const room = await newRoom(owner, "jobs");
  const on = await call(`/api/rooms/${room}/plugins/${plugin}`, {
    method: "PUT",
    token: owner.token,
    json: { enabled: true },
  });
  expect(on.status, await on.clone().text()).toBe(200);
  return { room, plugin, owner };
}

type JobRow = { plugin: string; job: string; spec: string; at: number };

const jobRows = (room: string) =>
  runInDurableObject(roomStub(room), (_room: Room, state) =>
    state.storage.sql.exec<JobRow>("SELECT * FROM plugin_jobs").toArray(),
  );

/** Waits for the room to read the registry after the plugin was turned on: the job's row. */
async function jobRow(room: string): Promise<JobRow> {
  let rows: JobRow[] = [];
  await expect.poll(async () => (rows = await jobRows(room)).length, { timeout: 10_000 }).toBe(1);
  return rows[0]!;
}

/** Sets the job due at `at`, and the clock and the alarm with it, then runs the room's alarm. */
async function fireAt(room: string, at: number): Promise<void> {
  await runInDurableObject(roomStub(room), async (_room: Room, state) => {
    state.storage.sql.exec("UPDATE plugin_jobs SET at = ?", at);
    state.storage.sql.exec("INSERT OR REPLACE INTO schedule (task, due) VALUES ('clock', ?)", at);
    await state.storage.setAlarm(at);
  });
  expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
}

/** What the plugin's bot posted in the room. */
async function ticks(room: string, plugin: string): Promise<string[]> {
  const page = await roomStub(room).events({ id: "root", name: "root", admin: true }, 0, 1000);
  if (!page.ok) throw new Error(page.error.message);
  return page.value.events
    .filter(
      (event: RoomEvent) =>
        event.type === "message.posted" && event.actor.name === `Plugin: ${plugin}`,
    )
    .map((event) => (event.data as { text: string }).text);
}

describe("a plugin's job in a room", () => {
  it("gets its next time when the plugin is turned on, runs when due, and moves on", async () => {
    const { room, plugin } = await tickingRoom();
    const row = await jobRow(room);
    expect(row).toMatchObject({
      plugin,
      job: "tick",
      spec: JSON.stringify({ cron: "* * * * *", timeZone: "UTC" }),
    });
    // The next whole minute, and the clock set for it.
    expect(row.at % 60_000).toBe(0);
    expect(row.at).toBeGreaterThan(Date.now() - 1000);
    expect(row.at).toBeLessThanOrEqual(Date.now() + 60_000);
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      const clock = state.storage.sql.exec<{ due: number }>(
        "SELECT due FROM schedule WHERE task = 'clock'",
      );
      expect(clock.one().due).toBeLessThanOrEqual(row.at);
    });

    const due = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    await fireAt(room, due);
    expect(await ticks(room, plugin)).toEqual(["tick 1"]);
    const [moved] = await jobRows(room);
    expect(moved!.at).toBeGreaterThan(Date.now());
    expect(moved!.at % 60_000).toBe(0);

    // The alarm again before the next time: nothing is due, nothing runs.
    await runInDurableObject(roomStub(room), async (_room: Room, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO schedule (task, due) VALUES ('clock', ?)", 0);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
    expect(await ticks(room, plugin)).toEqual(["tick 1"]);
  });

  it("acts once per due time, even when the alarm for that time is delivered again", async () => {
    const { room, plugin } = await tickingRoom();
    await jobRow(room);
    const due = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    await fireAt(room, due);
    // As if the room crashed after the job acted and before its row moved on: the same time
    // again. The job runs (it cannot know), its post is the same command, taken once.
    await fireAt(room, due);
    expect(await ticks(room, plugin)).toEqual(["tick 1"]);
    // The next due time is another: it posts.
    await fireAt(room, due + 60_000);
    expect(await ticks(room, plugin)).toEqual(["tick 1", "tick 3"]);
  });

  it("no longer runs once the room turned the plugin off", async () => {
    const { room, plugin, owner } = await tickingRoom();
    await jobRow(room);
    const off = await call(`/api/rooms/${room}/plugins/${plugin}`, {
      method: "PUT",
      token: owner.token,
      json: { enabled: false },
    });
    expect(off.status).toBe(200);
    await fireAt(room, Date.now() - 1000);
    expect(await ticks(room, plugin)).toEqual([]);
    expect(await jobRows(room)).toEqual([]);
  });
});
