/**
 * Reminders end to end (docs/automation.md, "Schedules and reminders"), on the real worker with
 * real WebSocket clients: `/remind me in 2s …` arrives on time on an open socket; it survives the
 * runtime killed under it (the webhooks e2e's `crash()`) and the whole server stopped and started
 * again (`restart()`), arriving on the reconnected socket when it fell due while the server was
 * down; a `here` reminder is posted exactly once across a crash and a restart.
 */
import { expect, it } from "vitest";
import type { EphemeralFrame, RoomEvent, SlashResult } from "../../src/protocol/index.ts";
import {
  connect,
  freshRoom,
  signIn,
  sleep,
  useServer,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;

useServer(async (started) => {
  server = started;
  [ada] = await signIn(server, "ada");
});

const ZONE = "Europe/Paris";

/** Runs `/remind …` as the composer does, with the browser's zone; the reminder's id and time. */
async function remind(room: string, text: string): Promise<{ id: string; at: number }> {
  const result: SlashResult = await ada.api.slash.run(room, text, crypto.randomUUID(), ZONE);
  if (result.kind !== "ephemeral") throw new Error(`unexpected answer ${JSON.stringify(result)}`);
  const id = /\((rem_[0-9a-f]{16});/.exec(result.text)?.[1];
  if (!id) throw new Error(`no reminder set: ${result.text}`);
  const mine = await ada.api.reminders(room).list();
  const made = mine.reminders.find((r) => r.id === id);
  if (!made) throw new Error(`reminder ${id} not listed`);
  return { id, at: made.at };
}

/** The ephemeral frames a client gets, each with when it arrived. */
function ephemerals(client: Client): { frame: EphemeralFrame; arrived: number }[] {
  const got: { frame: EphemeralFrame; arrived: number }[] = [];
  client.conn.on("ephemeral", (frame) => got.push({ frame, arrived: Date.now() }));
  return got;
}

const botPosts = async (room: string): Promise<RoomEvent[]> =>
  (await ada.api.events(room, 0, 1000)).events.filter(
    (e) => e.type === "message.posted" && e.actor.name === "Reminders",
  );

it("`/remind me in 2s` arrives on time on the author's open socket, and only there", async () => {
  const room = await freshRoom(ada, "remind");
  const client = await connect(server.url, room, ada);
  const got = ephemerals(client);
  const { at } = await remind(room, "/remind me in 2s to check the deploy");
  await waitUntil(() => got.length > 0, "the reminder", 15_000);
  const [{ frame, arrived }] = got as [(typeof got)[0]];
  expect(frame).toMatchObject({
    type: "ephemeral",
    text: "⏰ Reminder: check the deploy",
    from: { name: "Reminders" },
    at,
  });
  // Not before its time; and not long after it on an idle machine (a loose bound: it is an
  // alarm, not a benchmark).
  expect(arrived).toBeGreaterThanOrEqual(at);
  expect(arrived - at).toBeLessThan(5000);
  expect((await ada.api.reminders(room).list()).reminders).toEqual([]);
  // Private: nothing of it in the room's log.
  expect(JSON.stringify((await ada.api.events(room, 0, 100)).events)).not.toContain("the deploy");
});

it("survives the runtime killed under it: the reconnected socket gets it at its time", async () => {
  const room = await freshRoom(ada, "remind-crash");
  const client = await connect(server.url, room, ada);
  const got = ephemerals(client);
  const { at } = await remind(room, "/remind me in 3s to look at the canary");
  // SIGKILL to workerd, at once: the alarm is only in the room's storage now.
  await server.crash();
  await waitUntil(() => got.length > 0, "the reminder after the crash", 30_000);
  expect(got.map((g) => g.frame.text)).toEqual(["⏰ Reminder: look at the canary"]);
  expect(got[0]!.arrived).toBeGreaterThanOrEqual(at);
});

it("falls due while the server is down: it arrives on the next socket, once", async () => {
  const room = await freshRoom(ada, "remind-down");
  const before = await connect(server.url, room, ada);
  const { at } = await remind(room, "/remind me in 2s to rotate the keys");
  before.close();
  // The whole dev server stopped until the reminder is past due, then started on its storage.
  await server.restart(async () => {
    await sleep(Math.max(0, at - Date.now()) + 1000);
  });
  expect(Date.now()).toBeGreaterThan(at);
  const after = await connect(server.url, room, ada);
  // It may be in the greeting (the alarm ran before the socket opened) or come just after (the
  // socket woke the room, whose clock found it due): the socket's frames hold both.
  const received = () =>
    after.sockets
      .flatMap((ws) => ws.frames)
      .filter((f): f is EphemeralFrame => f.type === "ephemeral");
  await waitUntil(() => received().length > 0, "the reminder on reconnect", 30_000);
  await sleep(500);
  expect(received().map((f) => f.text)).toEqual(["⏰ Reminder: rotate the keys"]);
  // Taken once: another socket gets nothing.
  const third = await connect(server.url, room, ada);
  await sleep(500);
  expect(third.sockets[0]!.frames.some((f) => f.type === "ephemeral")).toBe(false);
  expect((await ada.api.reminders(room).list()).reminders).toEqual([]);
});

it("posts a `here` reminder exactly once across a crash at its time and a restart", async () => {
  const room = await freshRoom(ada, "remind-here");
  const { at } = await remind(room, "/remind here in 2s to stand up");
  // Killed right about when it fires: before, during or after the post, whichever it lands on.
  await sleep(Math.max(0, at - Date.now() - 20));
  await server.crash();
  await waitUntil(async () => (await botPosts(room)).length > 0, "the post", 30_000);
  await server.restart();
  await sleep(1500);
  const posts = await botPosts(room);
  expect(posts.map((e) => (e.data as { text: string }).text)).toEqual([
    "⏰ Reminder from ada: stand up",
  ]);
  expect((await ada.api.reminders(room).list()).reminders).toEqual([]);
});
