/**
 * Plugins at work in rooms, through the real server under `wrangler dev` (docs/plugins.md, "In a
 * room"): turning one on per room, the profanity filter screening posts and edits, `/poll` with
 * live counts, a rule that runs a plugin's command, a retried slash command that posts once. What
 * is asserted is what sockets and REST show.
 */
import { describe, expect, it } from "vitest";
import {
  ApiError,
  CommandError,
  EdgechatApi,
  type RoomEvent,
  type SlashResult,
} from "../../src/client/index.ts";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import { ROOM_SLOW_WHEN_ASKED, WELL_BEHAVED } from "../fixtures/plugins.ts";
import {
  connect,
  freshRoom,
  signIn,
  useServer,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let root: EdgechatApi;
let ada: Guest;
let bob: Guest;
let cat: Guest;

useServer(
  async (started) => {
    server = started;
    [ada, bob, cat] = await signIn(server, "ada", "bob", "cat");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
    for (const name of ["profanity-filter", "poll"]) {
      const bundle = await bundlePlugin(`plugins/${name}`);
      await root.admin.plugins.install(bundle.manifest.id, { code: bundle.code });
    }
  },
  { vars: { ADMIN_USERNAMES: "root" } },
);

/** The error `pending` must fail with. */
async function refusal(pending: Promise<unknown>): Promise<Error> {
  const outcome = await pending.then(
    (value) => new Error(`accepted (${JSON.stringify(value)}), expected a refusal`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(Error);
  expect((outcome as Error).message).not.toMatch(/^accepted/);
  return outcome as Error;
}

let ids = 0;
const clientId = (prefix = "c") => `${prefix}-${++ids}-${Math.random().toString(36).slice(2, 8)}`;

const post = async (who: Guest, room: string, text: string) =>
  (await who.api.postMessage(room, { text, clientId: clientId() })).seq;

const slash = (who: Guest, room: string, text: string, id = clientId("slash")) =>
  who.api.slash.run(room, text, id);

/** A room owned by ada with `plugins` on, and cat watching on a socket. */
async function roomWith(prefix: string, ...plugins: string[]) {
  const room = await freshRoom(ada, prefix);
  for (const plugin of plugins) await ada.api.roomPlugins(room).set(plugin, true);
  const watcher = await connect(server.url, room, cat);
  return { room, watcher };
}

const eventAt = async (client: Client, seq: number): Promise<RoomEvent> => {
  await client.untilSeq(seq);
  return client.events.find((event) => event.seq === seq)!;
};

/** The first event `client` got that `match` accepts, waiting for it. */
const seen = (client: Client, what: string, match: (event: RoomEvent) => boolean) =>
  waitUntil(() => client.events.find(match), what);

const posted = (result: SlashResult): number => {
  if (result.kind !== "posted") throw new Error(`not posted: ${JSON.stringify(result)}`);
  return result.seq;
};

const ephemeralText = (result: SlashResult): string => {
  if (result.kind !== "ephemeral") throw new Error(`not ephemeral: ${JSON.stringify(result)}`);
  return result.text;
};

describe("turning a plugin on in a room", () => {
  it("is the owner's: a moderator is refused, a plugin not installed is 404, one off for the instance 409", async () => {
    const room = await freshRoom(ada, "switch");
    await post(bob, room, "hi");
    await ada.api.command(room, {
      type: "role",
      clientId: clientId(),
      userId: bob.user.id,
      role: "moderator",
    });
    expect(await refusal(bob.api.roomPlugins(room).set("profanity-filter", true))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    expect(await refusal(ada.api.roomPlugins(room).set("no-such-plugin", true))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    await root.admin.plugins.install("switched-off", { code: WELL_BEHAVED("switched-off") });
    await root.admin.plugins.setEnabled("switched-off", false);
    const off = await refusal(ada.api.roomPlugins(room).set("switched-off", true));
    expect(off).toMatchObject({ status: 409, code: "conflict" });
    expect(off.message).toMatch(/turned off for the instance/);
    expect((await ada.api.roomPlugins(room).list()).plugins).toEqual([]);
  });

  it("logs plugin.enabled for every socket, and runs the plugin there alone", async () => {
    const room = await freshRoom(ada, "on");
    const elsewhere = await freshRoom(ada, "off");
    const watcher = await connect(server.url, room, cat);
    const { seq } = await ada.api.roomPlugins(room).set("profanity-filter", true);
    expect(await eventAt(watcher, seq)).toMatchObject({
      type: "plugin.enabled",
      data: { plugin: "profanity-filter" },
      actor: { id: ada.user.id },
    });
    // Turning it on again changes nothing: the room's current seq, no event.
    expect((await ada.api.roomPlugins(room).set("profanity-filter", true)).seq).toBe(seq);
    expect((await cat.api.roomPlugins(room).list()).plugins).toEqual([
      expect.objectContaining({ plugin: "profanity-filter", enabled: true }),
    ]);
    const here = await post(bob, room, "Well, darn.");
    expect(await eventAt(watcher, here)).toMatchObject({ data: { text: "Well, ****." } });
    const there = await post(bob, elsewhere, "Well, darn.");
    const { events } = await bob.api.events(elsewhere, there - 1, 1);
    expect(events[0]).toMatchObject({ seq: there, data: { text: "Well, darn." } });
    expect((await bob.api.roomPlugins(elsewhere).list()).plugins).toEqual([]);

    const disabled = await ada.api.roomPlugins(room).set("profanity-filter", false);
    expect(await eventAt(watcher, disabled.seq)).toMatchObject({
      type: "plugin.disabled",
      data: { plugin: "profanity-filter" },
    });
    const after = await post(bob, room, "Well, darn.");
    expect(await eventAt(watcher, after)).toMatchObject({ data: { text: "Well, darn." } });
  });
});

describe("profanity-filter in a room", () => {
  it("rewrites a post and an edit before anyone sees them", async () => {
    const { room, watcher } = await roomWith("rewrite", "profanity-filter");
    const author = await connect(server.url, room, bob);
    const seq = await author.conn.post("What the heck, darn it");
    expect(await eventAt(watcher, seq)).toMatchObject({
      type: "message.posted",
      actor: { id: bob.user.id },
      data: { text: "What the ****, **** it" },
    });
    const edit = await author.conn.edit(seq, "Frick, that was quick");
    expect(await eventAt(watcher, edit)).toMatchObject({
      type: "message.edited",
      data: { messageId: seq, text: "*****, that was quick" },
    });
    // Nothing of the original text reached anyone, nor the log.
    const { events } = await bob.api.events(room, 0, 100);
    expect(JSON.stringify(events)).not.toMatch(/heck|darn|Frick/);
  });

  it("in refuse mode refuses with the plugin's reason: forbidden on the socket and over REST, edits too", async () => {
    const { room, watcher } = await roomWith("refuse", "profanity-filter");
    expect(ephemeralText(await slash(ada, room, "/profanity mode refuse"))).toMatch(
      /^Mode: refuse/,
    );
    const author = await connect(server.url, room, bob);
    const onSocket = await refusal(author.conn.post("darn it"));
    expect(onSocket).toBeInstanceOf(CommandError);
    expect(onSocket).toMatchObject({ code: "forbidden" });
    expect(onSocket.message).toBe(
      'profanity-filter: This room does not allow "darn". Change the wording and send it again.',
    );
    // The frame on the wire: the contract's error, naming the command.
    const frames = author.sockets.flatMap((socket) => socket.frames);
    expect(frames.filter((frame) => frame.type === "error")).toEqual([
      {
        type: "error",
        code: "forbidden",
        message: onSocket.message,
        clientId: (onSocket as CommandError).clientId,
      },
    ]);

    const overRest = await refusal(post(bob, room, "heck no"));
    expect(overRest).toBeInstanceOf(ApiError);
    expect(overRest).toMatchObject({ status: 403, code: "forbidden" });
    expect(overRest.message).toMatch(/^profanity-filter: This room does not allow "heck"/);

    const clean = await author.conn.post("a clean one");
    const edit = await refusal(author.conn.edit(clean, "a dang one"));
    expect(edit).toMatchObject({ code: "forbidden" });
    expect(edit.message).toMatch(/does not allow "dang"/);
    // The room's log has the clean post alone, unedited.
    const last = await post(ada, room, "and on it goes");
    await watcher.untilSeq(last);
    const texts = watcher.events
      .filter((event) => event.type === "message.posted" || event.type === "message.edited")
      .map((event) => (event.data as { text: string }).text);
    expect(texts).toEqual(["a clean one", "and on it goes"]);
  });

  it("takes /profanity with the caller's rank: a member lists, only the owner changes", async () => {
    const { room } = await roomWith("ranks", "profanity-filter");
    await post(bob, room, "here");
    expect(ephemeralText(await slash(bob, room, "/profanity mode refuse"))).toBe(
      "Only the room's moderators and owner change the filter.",
    );
    expect(ephemeralText(await slash(bob, room, "/profanity add bother"))).toBe(
      "Only the room's moderators and owner change the filter.",
    );
    expect(ephemeralText(await slash(bob, room, "/profanity list"))).toBe(
      "Mode: rewrite. Words (5): crud, dang, darn, frick, heck",
    );
    expect(ephemeralText(await slash(ada, room, "/profanity add bother"))).toMatch(
      /^Added bother\./,
    );
    const seq = await post(bob, room, "Oh bother.");
    const { events } = await bob.api.events(room, seq - 1, 1);
    expect(events[0]).toMatchObject({ data: { text: "Oh ******." } });
    // The plugin's command is in the room's list, and not in another room's.
    const commands = await bob.api.slash.commands(room);
    expect(JSON.stringify(commands)).toContain('"profanity"');
    const elsewhere = await freshRoom(ada, "no-filter");
    expect(JSON.stringify(await bob.api.slash.commands(elsewhere))).not.toContain('"profanity"');
  });
});

describe("poll in a room", () => {
  it("posts the poll as its bot, counts two people's votes live, and closes it", async () => {
    const { room, watcher } = await roomWith("poll", "poll");
    const seq = posted(await slash(ada, room, '/poll "Lunch?" pizza sushi'));
    const poll = await eventAt(watcher, seq);
    expect(poll).toMatchObject({
      type: "message.posted",
      actor: { name: "Plugin: poll" },
      data: { text: expect.stringMatching(/^📊 Lunch\?\n1️⃣ pizza\n.*\n2️⃣ sushi\n/u) },
    });
    expect(poll.actor.id).toMatch(/^svc_[0-9a-f]{32}$/);
    const bobs = await connect(server.url, room, bob);
    await bobs.conn.react(seq, "1️⃣", true);
    const first = await seen(watcher, "the first vote counted", (event) =>
      isEditOf(event, seq, /1 vote from 1 person/),
    );
    expect(first.actor.id).toBe(poll.actor.id);
    expect(editText(first)).toMatch(/1️⃣ pizza\n██████████ 1 \(100%\)\n2️⃣ sushi\n░{10} 0 \(0%\)/u);
    await ada.api.command(room, {
      type: "react",
      clientId: clientId(),
      messageId: seq,
      emoji: "2️⃣",
      on: true,
    });
    const second = await seen(watcher, "the second vote counted", (event) =>
      isEditOf(event, seq, /2 votes from 2 people/),
    );
    expect(editText(second)).toMatch(/1 \(50%\)\n2️⃣ sushi\n█████░░░░░ 1 \(50%\)/u);
    // bob changes his mind: his 1️⃣ taken back, 2️⃣ added.
    await bobs.conn.react(seq, "1️⃣", false);
    await bobs.conn.react(seq, "2️⃣", true);
    await seen(watcher, "bob's change counted", (event) =>
      isEditOf(event, seq, /1️⃣ pizza\n░{10} 0 \(0%\)\n2️⃣ sushi\n██████████ 2 \(100%\)/u),
    );

    // Only the one who asked, or a moderator, closes it.
    expect((await slash(bob, room, "/poll close")).kind).toBe("ephemeral");
    const closed = posted(await slash(ada, room, "/poll close"));
    expect(await eventAt(watcher, closed)).toMatchObject({
      actor: { id: poll.actor.id },
      data: { text: "📊 Poll closed: Lunch? sushi wins with 2 votes." },
    });
    await seen(watcher, "the poll marked closed", (event) =>
      isEditOf(event, seq, /2 votes from 2 people · closed · poll #/),
    );
    expect(ephemeralText(await slash(ada, room, "/poll close"))).toBe(
      "There is no open poll in this room.",
    );
  });

  it("answers a mistake to the caller alone, posting nothing", async () => {
    const { room, watcher } = await roomWith("poll-usage", "poll");
    expect(ephemeralText(await slash(bob, room, "/poll lonely"))).toMatch(/^Not posted: /);
    const last = await post(bob, room, "after");
    await watcher.untilSeq(last);
    expect(watcher.messages().map((event) => event.actor.name)).toEqual(["bob"]);
  });
});

describe("a rule's plugin action", () => {
  it("runs /poll when a message matches, posted by the plugin's bot", async () => {
    const { room, watcher } = await roomWith("rule", "poll");
    await ada.api.rules(room).create({
      name: "Lunch poll",
      trigger: { on: "message", match: { keywords: ["lunch"] } },
      actions: [{ do: "plugin", plugin: "poll", command: "poll", args: '"Where?" canteen park' }],
    });
    const asked = await post(bob, room, "anyone for lunch?");
    const poll = await seen(
      watcher,
      "the rule's poll",
      (event) =>
        event.type === "message.posted" && event.seq > asked && event.actor.name === "Plugin: poll",
    );
    expect(poll.data).toMatchObject({
      text: expect.stringMatching(/^📊 Where\?\n1️⃣ canteen\n.*\n2️⃣ park\n/u),
    });
    // One poll for one message: nothing else was posted by the rule or the plugin.
    const last = await post(ada, room, "ok");
    await watcher.untilSeq(last);
    expect(watcher.messages().map((event) => event.actor.name)).toEqual([
      "bob",
      "Plugin: poll",
      "ada",
    ]);
  });
});

describe("screening keeps each sender's order", () => {
  it("holds a sender's later commands behind a slow hook, and nobody else's", async () => {
    await root.admin.plugins.install("slowpoke", { code: ROOM_SLOW_WHEN_ASKED("slowpoke") });
    const { room, watcher } = await roomWith("order", "slowpoke");
    const owner = await connect(server.url, room, ada);
    const member = await connect(server.url, room, bob);
    const earlier = await member.conn.post("an earlier one");
    // ada's slow post, then a topic that needs no screening; bob's reaction meanwhile.
    const slow = owner.conn.post("slow, this one");
    const topic = owner.conn.setTopic("after the slow post");
    const reaction = member.conn.react(earlier, "👍", true);
    const [slowSeq, topicSeq, reactionSeq] = await Promise.all([slow, topic, reaction]);
    expect(topicSeq).toBe(slowSeq + 1);
    expect(reactionSeq).toBeLessThan(slowSeq);
    await watcher.untilSeq(topicSeq);
    expect(watcher.events.slice(-3).map((event) => event.type)).toEqual([
      "reaction.added",
      "message.posted",
      "room.topic_changed",
    ]);
  });
});

describe("a plugin's slash command sent again", () => {
  it("with the same clientId posts once, and the plugin runs once", async () => {
    const { room, watcher } = await roomWith("retry", "poll");
    const id = clientId("same");
    const results = [
      await slash(ada, room, '/poll "Again?" yes no', id),
      await slash(ada, room, '/poll "Again?" yes no', id),
    ];
    const seq = posted(results[0]!);
    expect(results[1]).toEqual(results[0]);
    // Twice at once with one clientId: one answer, one poll.
    const twice = clientId("twice");
    const both = await Promise.all([1, 2].map(() => slash(bob, room, '/poll "Twice?" a b', twice)));
    expect(both[1]).toEqual(both[0]);
    const other = posted(both[0]!);
    const last = await post(ada, room, "done");
    await watcher.untilSeq(last);
    const polls = watcher.messages().filter((event) => event.actor.name === "Plugin: poll");
    expect(polls.map((event) => event.seq)).toEqual([seq, other]);
    // Had the plugin run again, an open poll without a message would be the newest: the two
    // closes would not reach both polls.
    for (const closing of [other, seq]) {
      posted(await slash(ada, room, "/poll close"));
      await seen(watcher, `poll ${closing} closed`, (event) =>
        isEditOf(event, closing, /· closed · poll #/),
      );
    }
    expect(ephemeralText(await slash(ada, room, "/poll close"))).toBe(
      "There is no open poll in this room.",
    );
  });
});

function isEditOf(event: RoomEvent, seq: number, text: RegExp): boolean {
  return (
    event.type === "message.edited" &&
    (event.data as { messageId: number }).messageId === seq &&
    text.test(editText(event))
  );
}

const editText = (event: RoomEvent) => (event.data as { text: string }).text;
