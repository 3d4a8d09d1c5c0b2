import { expect, it } from "vitest";
import { CommandError } from "../../src/client/index.ts";
import type { Command, RoomEvent } from "../../src/protocol/index.ts";
import {
  connect,
  freshRoom,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let mia: Guest;
let bob: Guest;
let cat: Guest;

useServer(async (started) => {
  server = started;
  [ada, mia, bob, cat] = await signIn(server, "ada", "mia", "bob", "cat");
});

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Sends a command over `client`'s socket with a fresh clientId; resolves with its seq. */
function command(client: Client, frame: Without<Command, "clientId">): Promise<number> {
  return client.conn.send({ ...frame, clientId: client.conn.nextClientId() } as Command);
}

/** The refusal of a command, which must be refused. */
async function refusal(pending: Promise<number>): Promise<CommandError> {
  const outcome = await pending.then(
    (seq) => new Error(`accepted with seq ${seq}, expected a refusal`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(CommandError);
  return outcome as CommandError;
}

/**
 * A room owned by ada with mia as moderator, bob as a member and cat watching, each on a socket
 * of their own.
 */
async function moderatedRoom(prefix: string) {
  const room = await freshRoom(ada, prefix);
  const owner = await connect(server.url, room, ada);
  const moderator = await connect(server.url, room, mia);
  const member = await connect(server.url, room, bob);
  const watcher = await connect(server.url, room, cat);
  const promoted = await command(owner, {
    type: "role",
    userId: mia.user.id,
    role: "moderator",
  });
  await moderator.untilSeq(promoted);
  return { room, owner, moderator, member, watcher };
}

/** The event at `seq` once every one of `clients` has it (they all see the same). */
async function seenByAll(seq: number, clients: Client[]): Promise<RoomEvent> {
  await Promise.all(clients.map((c) => c.untilSeq(seq)));
  const copies = clients.map((c) => c.events.find((e) => e.seq === seq));
  for (const copy of copies) expect(copy).toEqual(copies[0]);
  return copies[0]!;
}

/** Retries `post` until it is accepted while it is refused with `code`; bounded, fails loudly. */
async function acceptedOnceLifted(
  post: () => Promise<number>,
  code: string,
  what: string,
): Promise<{ seq: number; at: number }> {
  return waitUntil(
    async () => {
      try {
        return { seq: await post(), at: Date.now() };
      } catch (error) {
        if (error instanceof CommandError && error.code === code) return undefined;
        throw error;
      }
    },
    what,
    15_000,
    250,
  );
}

it("slow mode: a member waits between messages, moderators and the owner do not, and it lifts after the window", async () => {
  const { room, owner, moderator, member, watcher } = await moderatedRoom("slow");
  const everyone = [owner, moderator, member, watcher];

  // Only the owner and moderators set it.
  const denied = await refusal(command(member, { type: "slow_mode", seconds: 2 }));
  expect(denied.code).toBe("forbidden");

  const set = await command(owner, { type: "slow_mode", seconds: 2 });
  expect(await seenByAll(set, everyone)).toMatchObject({
    type: "room.slow_mode_changed",
    actor: { id: ada.user.id },
    data: { seconds: 2 },
  });
  expect((await bob.api.getRoom(room)).slowModeSeconds).toBe(2);

  const firstSentAt = Date.now();
  const first = await member.conn.post("first");
  const tooSoon = await refusal(member.conn.post("too soon"));
  expect(tooSoon.code).toBe("rate_limited");
  // A clear message that says why and how long to wait.
  expect(tooSoon.message).toMatch(/slow mode/i);
  expect(tooSoon.message).toMatch(/\b[12] s\b/);
  // Slow mode is about messages: reacting goes on.
  await member.conn.react(first, "👍", true);

  // Moderators and the owner are exempt.
  await moderator.conn.post("mod 1");
  await moderator.conn.post("mod 2");
  await owner.conn.post("owner 1");
  await owner.conn.post("owner 2");

  // It lifts once the window since the member's last message has passed, not before.
  const later = await acceptedOnceLifted(
    () => member.conn.post("later"),
    "rate_limited",
    "slow mode to let the member post again",
  );
  expect(later.at - firstSentAt).toBeGreaterThanOrEqual(2000);

  // 0 turns it off: two messages in a row are fine again.
  const off = await command(moderator, { type: "slow_mode", seconds: 0 });
  expect(await seenByAll(off, everyone)).toMatchObject({
    type: "room.slow_mode_changed",
    actor: { id: mia.user.id },
    data: { seconds: 0 },
  });
  await member.conn.post("free 1");
  await member.conn.post("free 2");

  // Nothing refused reached the log.
  const { events } = await ada.api.events(room, 0, 1000);
  const texts = events.flatMap((e) =>
    e.type === "message.posted" && e.actor.id === bob.user.id ? [e.data.text] : [],
  );
  expect(texts).toEqual(["first", "later", "free 1", "free 2"]);
  for (const c of everyone)
    expect(c.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });
});

it("mute: a muted member cannot post, edit or react, may delete their own messages, and unmute restores", async () => {
  const { room, owner, moderator, member, watcher } = await moderatedRoom("mute");
  const everyone = [owner, moderator, member, watcher];
  const mine = await member.conn.post("mine");
  const doomed = await member.conn.post("to delete while muted");
  const owners = await owner.conn.post("the owner's");

  // A member may not mute anyone.
  expect(
    (await refusal(command(member, { type: "mute", userId: cat.user.id, seconds: 60 }))).code,
  ).toBe("forbidden");

  const before = Date.now();
  const mutedSeq = await command(moderator, { type: "mute", userId: bob.user.id, seconds: 600 });
  const after = Date.now();
  const muted = await seenByAll(mutedSeq, everyone);
  expect(muted).toMatchObject({
    type: "member.muted",
    actor: { id: mia.user.id },
    data: { userId: bob.user.id },
  });
  const { until } = muted.data as { until: number };
  expect(until).toBeGreaterThanOrEqual(before + 600_000);
  expect(until).toBeLessThanOrEqual(after + 600_000);

  for (const attempt of [
    member.conn.post("while muted"),
    member.conn.edit(mine, "edited while muted"),
    member.conn.react(owners, "🎉", true),
  ]) {
    const refused = await refusal(attempt);
    expect(refused.code).toBe("forbidden");
    expect(refused.message).toMatch(/muted/i);
  }
  // Deleting one's own message is still allowed.
  const deleted = await member.conn.delete(doomed);
  expect(await seenByAll(deleted, everyone)).toMatchObject({
    type: "message.deleted",
    actor: { id: bob.user.id },
    data: { messageId: doomed },
  });
  // Lifting it takes a moderator too.
  expect((await refusal(command(member, { type: "unmute", userId: bob.user.id }))).code).toBe(
    "forbidden",
  );

  const unmutedSeq = await command(moderator, { type: "unmute", userId: bob.user.id });
  expect(await seenByAll(unmutedSeq, everyone)).toMatchObject({
    type: "member.unmuted",
    actor: { id: mia.user.id },
    data: { userId: bob.user.id },
  });
  await member.conn.post("free again");
  await member.conn.edit(mine, "edited after");
  await member.conn.react(owners, "🎉", true);

  // The log holds what was allowed and nothing that was refused.
  const { events } = await ada.api.events(room, 0, 1000);
  const bobs = events.filter((e) => e.actor.id === bob.user.id && e.seq > mutedSeq);
  expect(bobs.map((e) => e.type)).toEqual([
    "message.deleted",
    "message.posted",
    "message.edited",
    "reaction.added",
  ]);
  expect(
    events.filter((e) => e.type === "message.posted").map((e) => (e.data as { text: string }).text),
  ).not.toContain("while muted");
});

it("a mute ends by itself at its until", async () => {
  const { owner, moderator, member, watcher } = await moderatedRoom("mute-ends");
  const mutedSeq = await command(moderator, { type: "mute", userId: bob.user.id, seconds: 2 });
  const muted = await seenByAll(mutedSeq, [owner, moderator, member, watcher]);
  const { until } = muted.data as { until: number };
  expect((await refusal(member.conn.post("too early"))).code).toBe("forbidden");
  const accepted = await acceptedOnceLifted(
    () => member.conn.post("on time"),
    "forbidden",
    "the mute to end",
  );
  expect(accepted.at).toBeGreaterThanOrEqual(until);
});
