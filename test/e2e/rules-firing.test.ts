/**
 * Rules at work through the real server (docs/automation.md): every trigger and every action of a
 * room's rules, and their conditions, as the room's sockets and REST really show them. Each rule
 * is saved with the SDK, set off by real clients (posts, joins, invitations, leaves, reactions,
 * an incoming webhook's URL, the clock), and what it does is read off an owner's WebSocket: the
 * posts, replies, reactions, mutes and topics its own actor (`Rule: <name>`) wrote. A rule's
 * webhook action reaches a real local receiver, signed per Standard Webhooks. What a rule must
 * not do is checked once the Sentinel rule has caught up (rules-support.ts, `settled`).
 */
import { describe, expect, it } from "vitest";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { ApiError, EdgechatApi, type RoomEvent } from "../../src/client/index.ts";
import { ruleActorId } from "../../src/automation/rule-actor.ts";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import {
  connect,
  signIn,
  sleep,
  useReceiver,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";
import {
  byRule,
  ruleWrote,
  saveRule,
  say,
  settled,
  textOf,
  watchedRoom,
  type Cast,
} from "./rules-support.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let moe: Guest;
let cy: Guest;
let cast: Cast;
let root: EdgechatApi;

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada, bob, moe, cy] = await signIn(server, "ada", "bob", "moe", "cyd");
    cast = { owner: ada, moderator: moe, member: bob };
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  {
    vars: {
      WEBHOOK_ALLOW_LOOPBACK: "true",
      WEBHOOK_RETRY_DELAYS: "1,1,1",
      ADMIN_USERNAMES: "root",
    },
  },
);

type Posted = Extract<RoomEvent, { type: "message.posted" }>;
const posted = (events: RoomEvent[]) =>
  events.filter((event): event is Posted => event.type === "message.posted");

describe("triggers", () => {
  it("fires on a keyword as a whole word in any case, never inside another word", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Incident",
      trigger: { on: "message", match: { keywords: ["incident"] } },
      actions: [{ do: "reply", text: "{user} reported: {text}" }],
    });
    await say(bob, room, "a coincident bug");
    await say(bob, room, "two incidents today");
    const hit = await say(bob, room, "Big INCIDENT in prod!");
    const [reply] = await ruleWrote(watcher, "Incident");
    expect(reply).toMatchObject({
      type: "message.posted",
      actor: { name: "Rule: Incident" },
      data: { text: "bob reported: Big INCIDENT in prod!", replyTo: hit },
    });
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Incident")).toHaveLength(1);
  });

  it("fires on an RE2 pattern, case-sensitive, and refuses one RE2 cannot run in linear time", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Release",
      trigger: { on: "message", match: { pattern: "deploy v\\d+\\.\\d+" } },
      actions: [{ do: "react", emoji: "🚀" }],
    });
    await say(bob, room, "Deploy v1.2 (capital D)");
    await say(bob, room, "deploy v1.x");
    const hit = await say(bob, room, "we deploy v2.10 tonight");
    const [reaction] = await ruleWrote(watcher, "Release");
    expect(reaction).toMatchObject({
      type: "reaction.added",
      data: { messageId: hit, emoji: "🚀" },
    });
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Release")).toHaveLength(1);

    const refused = await moe.api
      .rules(room)
      .create({
        name: "Lookahead",
        trigger: { on: "message", match: { pattern: "deploy(?!ed)" } },
        actions: [{ do: "post", text: "no" }],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: "bad_request", status: 400 });
    expect((refused as ApiError).message).toMatch(/^trigger\.match\.pattern: .*not valid RE2/);
  });

  it("fires when a new member first posts in a public room, and not for a member who was there", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Welcome",
      trigger: { on: "member_joined" },
      actions: [{ do: "post", text: "welcome {user} to {room}" }],
    });
    await say(bob, room, "bob again: already a member");
    await say(cy, room, "hello, I am new");
    const [welcome] = await ruleWrote(watcher, "Welcome");
    expect(textOf(welcome)).toBe(`welcome cyd to ${room}`);
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Welcome")).toHaveLength(1);
  });

  it("fires when someone is invited into a private room", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const owner = await new EdgechatApi(server.url).register(`own_${tag}`, "correct horse");
    const invitee = await new EdgechatApi(server.url).register(`inv_${tag}`, "correct horse");
    const api = new EdgechatApi(server.url, owner.token);
    const room = `private-${tag}`;
    await api.createRoom({ name: room, visibility: "private" });
    await api.rules(room).create({
      name: "Welcome",
      trigger: { on: "member_joined" },
      actions: [{ do: "post", text: "welcome {user}" }],
    });
    const watcher = await connect(server.url, room, { ...owner, api });
    await api.invite(room, invitee.user.name);
    const [welcome] = await ruleWrote(watcher, "Welcome");
    expect(textOf(welcome)).toBe(`welcome inv_${tag}`);
    expect(watcher.events.find((e) => e.type === "member.invited")).toMatchObject({
      data: { user: { id: invitee.user.id } },
    });
  });

  it("fires when a member leaves, not when one is kicked", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await say(cy, room, "cy is here");
    await saveRule(moe, room, {
      name: "Goodbye",
      trigger: { on: "member_left" },
      actions: [{ do: "post", text: "{user} left" }],
    });
    await ada.api.command(room, {
      type: "kick",
      clientId: crypto.randomUUID(),
      userId: cy.user.id,
    });
    await bob.api.command(room, { type: "leave", clientId: crypto.randomUUID() });
    const [goodbye] = await ruleWrote(watcher, "Goodbye");
    expect(textOf(goodbye)).toBe("bob left");
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Goodbye")).toHaveLength(1);
  });

  it("fires on a reaction of its emoji only, and on every reaction without one", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Eyes",
      trigger: { on: "reaction", emoji: "👀" },
      actions: [{ do: "reply", text: "{user} is looking at: {text}" }],
    });
    await saveRule(moe, room, {
      name: "Any",
      trigger: { on: "reaction" },
      actions: [{ do: "post", text: "{user} reacted" }],
    });
    const message = await say(ada, room, "the deploy plan");
    for (const emoji of ["👍", "👀"])
      await bob.api.command(room, {
        type: "react",
        clientId: crypto.randomUUID(),
        messageId: message,
        emoji,
        on: true,
      });
    const [reply] = await ruleWrote(watcher, "Eyes");
    expect(reply).toMatchObject({
      data: { text: "bob is looking at: the deploy plan", replyTo: message },
    });
    await ruleWrote(watcher, "Any", 2);
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Eyes")).toHaveLength(1);
    // Every reaction, the Sentinel's own included: it is another rule's action, not Any's.
    await ruleWrote(watcher, "Any", 3);
    expect(posted(byRule(watcher, "Any")).map((e) => e.data.text)).toEqual([
      "bob reacted",
      "bob reacted",
      "Rule: Sentinel reacted",
    ]);
  });

  it("fires a `time` rule once at its time, from the room's clock", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    const at = Date.now() + 3000;
    const { rule } = await saveRule(moe, room, {
      name: "Timer",
      trigger: { on: "time", at },
      actions: [{ do: "post", text: "time's up in {room}" }],
    });
    const listed = (await moe.api.rules(room).list()).rules.find((r) => r.id === rule.id);
    expect(listed?.nextAt).toBe(at);
    const [post] = await ruleWrote(watcher, "Timer", 1, 20_000);
    expect(textOf(post)).toBe(`time's up in ${room}`);
    expect(post!.at).toBeGreaterThanOrEqual(at);
    await waitUntil(async () => {
      const listed = (await moe.api.rules(room).list()).rules.find((r) => r.id === rule.id);
      return listed !== undefined && listed.nextAt === undefined;
    }, "listed with no next time");
    await sleep(1500);
    expect(byRule(watcher, "Timer")).toHaveLength(1);
  });

  it("lists a `* * * * *` schedule at the next minute as soon as it is saved", async () => {
    // Not waited for here (up to a minute): a schedule fires on the clock the `time` rule above
    // fires on (rule-clock.ts), and test/worker/automation-room.test.ts fires one at its alarm and
    // moves it to its next time; unit/automation-cron.test.ts computes the next times.
    const { room } = await watchedRoom(server, cast);
    const { rule } = await saveRule(moe, room, {
      name: "Minutely",
      trigger: { on: "schedule", cron: "* * * * *", timeZone: "UTC" },
      actions: [{ do: "post", text: "tick" }],
    });
    const nextMinute = Math.floor(rule.savedAt / 60_000) * 60_000 + 60_000;
    const listed = (await moe.api.rules(room).list()).rules.find((r) => r.id === rule.id);
    expect(listed?.nextAt).toBe(nextMinute);
  });

  it("fires on a post through its incoming webhook's URL, not on the same text by anyone else", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    const { hook, url } = await ada.api.incomingWebhooks(room).create({ name: "CI" });
    const other = await ada.api.incomingWebhooks(room).create({ name: "Other" });
    await saveRule(moe, room, {
      name: "Build",
      trigger: { on: "webhook", hook: hook.id },
      actions: [{ do: "reply", text: "{user} says: {text}" }],
    });
    await say(bob, room, "build 41 failed");
    const send = (to: string, text: string) =>
      fetch(to, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
      });
    expect((await send(other.url, "build 41 failed")).status).toBe(200);
    expect((await send(url, "build 42 failed")).status).toBe(200);
    const [reply] = await ruleWrote(watcher, "Build");
    const trigger = posted(watcher.events).find((e) => e.data.text === "build 42 failed");
    expect(trigger?.actor.id).toBe(hook.botId);
    expect(reply).toMatchObject({
      data: { text: "CI says: build 42 failed", replyTo: trigger!.seq },
    });
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Build")).toHaveLength(1);
  });
});

describe("actions", () => {
  it("posts and replies as the rule's own actor, a service of this room", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    const { rule } = await saveRule(moe, room, {
      name: "Standup",
      trigger: { on: "message", match: { keywords: ["standup"] } },
      actions: [
        { do: "post", text: "Standup in {room}, called by {user}" },
        { do: "reply", text: "on it" },
      ],
    });
    const hit = await say(bob, room, "standup now?");
    const [post, reply] = await ruleWrote(watcher, "Standup", 2);
    const actor = { id: ruleActorId(room, rule.id), name: "Rule: Standup" };
    expect(post).toMatchObject({
      actor,
      data: { text: `Standup in ${room}, called by bob` },
    });
    expect((post as Posted).data.replyTo).toBeUndefined();
    expect(reply).toMatchObject({ actor, data: { text: "on it", replyTo: hit } });
    // A service: it acts without joining, so the members are as they were.
    const { members } = await ada.api.members(room);
    expect(members.map((m) => m.name).sort()).toEqual(["ada", "bob", "moe"]);
    // Over REST too, in the room's order.
    const { events } = await ada.api.events(room, hit - 1, 10);
    expect(events.filter((e) => e.actor.id === actor.id).map((e) => e.seq)).toEqual([
      post!.seq,
      reply!.seq,
    ]);
  });

  it("notifies every moderator and up by name", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await say(cy, room, "cy is a member too");
    await saveRule(moe, room, {
      name: "Page",
      trigger: { on: "message", match: { keywords: ["help"] } },
      actions: [{ do: "notify", role: "moderator", text: "{user} needs help" }],
    });
    await say(bob, room, "help please");
    const [notice] = await ruleWrote(watcher, "Page");
    const [text, mentions] = textOf(notice).split("\n") as [string, string];
    expect(text).toBe("bob needs help");
    expect(mentions.split(" ").sort()).toEqual(["@ada", "@moe"]);
  });

  it("sends automation.fired to the room's webhook, signed, once per firing", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    const path = `/fired-${room}`;
    // The endpoint asks for topic changes only: a rule's webhook action reaches it all the same.
    const { webhook, secret } = await ada.api
      .webhooks(room)
      .create({ url: receiver.url(path), eventTypes: ["room.topic_changed"] });
    const { rule } = await saveRule(moe, room, {
      name: "Hook",
      trigger: { on: "message", match: { keywords: ["deploy"] } },
      actions: [
        { do: "webhook", webhook: webhook.id },
        { do: "post", text: "sent" },
      ],
    });
    const seqs = [await say(bob, room, "deploy one"), await say(bob, room, "deploy two")];
    await ruleWrote(watcher, "Hook", 2);
    const got = await waitUntil(
      () => (receiver.at(path).length >= 2 ? receiver.at(path) : undefined),
      "two deliveries",
    );
    const reference = new StandardWebhook(secret);
    const bodies = got.map((request) => {
      reference.verify(request.body, request.headers);
      return JSON.parse(request.body) as {
        type: string;
        data: {
          room: string;
          rule: { id: string; name: string };
          trigger: string;
          event: RoomEvent;
        };
      };
    });
    expect(bodies.map((b) => b.data.event.seq).sort((a, b) => a - b)).toEqual(seqs);
    for (const body of bodies)
      expect(body).toMatchObject({
        type: "automation.fired",
        data: { room, rule: { id: rule.id, name: "Hook" }, trigger: "message" },
      });
    expect(got.map((r) => r.headers["webhook-id"]).sort()).toEqual(
      seqs.map((seq) => `msg_rule_${rule.id}_${seq}_0`).sort(),
    );
    const log = await waitUntil(async () => {
      const { deliveries } = await ada.api.webhooks(room).deliveries(webhook.id);
      return deliveries.length === 2 && deliveries.every((d) => d.status === "delivered")
        ? deliveries
        : undefined;
    }, "both delivered");
    expect(log.every((d) => d.eventType === "automation.fired")).toBe(true);
    // Nothing more comes later: one delivery per firing.
    await settled(room, ada, watcher);
    await sleep(1500);
    expect(receiver.at(path)).toHaveLength(2);
  });

  it("mutes the member who set it off, never the owner; the other actions still run", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Spam",
      trigger: { on: "message", match: { keywords: ["spam"] } },
      actions: [
        { do: "mute", seconds: 600 },
        { do: "reply", text: "no spam here" },
      ],
    });
    await say(ada, room, "the owner says spam");
    const [ownerReply] = await ruleWrote(watcher, "Spam");
    expect(ownerReply).toMatchObject({ type: "message.posted", data: { text: "no spam here" } });
    await say(bob, room, "buy spam");
    const [, muted, reply] = await ruleWrote(watcher, "Spam", 3);
    expect(muted).toMatchObject({
      type: "member.muted",
      actor: { name: "Rule: Spam" },
      data: { userId: bob.user.id },
    });
    expect((muted as Extract<RoomEvent, { type: "member.muted" }>).data.until).toBeGreaterThan(
      Date.now() + 500_000,
    );
    expect(reply).toMatchObject({ type: "message.posted", data: { text: "no spam here" } });
    const refused = await say(bob, room, "let me speak").catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "forbidden" });
    expect((refused as ApiError).message).toMatch(/muted until/);
    // The owner still speaks: never muted.
    await say(ada, room, "the owner still speaks");
    const { members } = await ada.api.members(room);
    expect(members.find((m) => m.id === ada.user.id)?.mutedUntil).toBeUndefined();
    expect(members.find((m) => m.id === bob.user.id)?.mutedUntil).toBeGreaterThan(Date.now());
  });

  it("sets the topic from the triggering message", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Topic",
      trigger: { on: "message", match: { keywords: ["outage"] } },
      actions: [{ do: "topic", topic: "Incident open: {text}" }],
    });
    await say(bob, room, "outage in eu-west");
    const [changed] = await ruleWrote(watcher, "Topic");
    expect(changed).toMatchObject({
      type: "room.topic_changed",
      data: { topic: "Incident open: outage in eu-west" },
    });
    expect((await ada.api.getRoom(room)).topic).toBe("Incident open: outage in eu-west");
  });

  it("runs a plugin's slash command as the rule: the poll plugin posts a poll, which does not set the rule off again", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    const poll = await bundlePlugin("plugins/poll");
    await root.admin.plugins.install(poll.manifest.id, { code: poll.code });
    await ada.api.roomPlugins(room).set(poll.manifest.id, true);
    await saveRule(moe, room, {
      name: "Lunch",
      trigger: { on: "message", match: { keywords: ["lunch"] } },
      actions: [
        { do: "plugin", plugin: poll.manifest.id, command: "poll", args: '"Lunch?" pizza sushi' },
        // Installed nowhere: this action fails, and the next one runs all the same.
        { do: "plugin", plugin: "not-installed", command: "nothing" },
        { do: "reply", text: "poll opened" },
      ],
    });
    const hit = await say(bob, room, "lunch, anyone?");
    const [reply] = await ruleWrote(watcher, "Lunch");
    expect(reply).toMatchObject({ data: { text: "poll opened", replyTo: hit } });
    const pollPost = await waitUntil(
      () =>
        posted(watcher.events).find(
          (e) => e.actor.name === `Plugin: ${poll.manifest.id}` && e.data.text.includes("Lunch?"),
        ),
      "the poll",
    );
    expect(pollPost.data.text).toMatch(/^📊 Lunch\?\n1️⃣ pizza\n[\s\S]*2️⃣ sushi/);
    // In the rule's order: the poll before the reply.
    expect(pollPost.seq).toBeLessThan(reply!.seq);
    // The poll holds the rule's keyword ("Lunch?"), but the plugin wrote it for the rule: it is the
    // rule's own action, and does not set the rule off again (one reply, one poll).
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Lunch")).toHaveLength(1);
    expect(posted(watcher.events).filter((e) => e.actor.id === pollPost.actor.id)).toHaveLength(1);
  });
});

describe("conditions", () => {
  it("fires only for the roles it names", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Staff",
      trigger: { on: "message", match: { keywords: ["release"] } },
      conditions: { roles: ["moderator", "owner"] },
      actions: [{ do: "reply", text: "approved" }],
    });
    await say(bob, room, "release it");
    const hit = await say(moe, room, "release it");
    const [reply] = await ruleWrote(watcher, "Staff");
    expect(reply).toMatchObject({ data: { replyTo: hit } });
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Staff")).toHaveLength(1);
  });

  it("fires inside its time window and not outside it", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    // Today and tomorrow in UTC, all day: it holds now, even across midnight; the rest of the
    // week it does not.
    const today = new Date().getUTCDay();
    const now = [today, (today + 1) % 7];
    const never = [0, 1, 2, 3, 4, 5, 6].filter((day) => !now.includes(day));
    for (const [name, days] of [
      ["Open", now],
      ["Closed", never],
    ] as const)
      await saveRule(moe, room, {
        name,
        trigger: { on: "message", match: { keywords: ["ping"] } },
        conditions: { window: { days: [...days], from: "00:00", to: "24:00", timeZone: "UTC" } },
        actions: [{ do: "reply", text: `${name}: pong` }],
      });
    await say(bob, room, "ping");
    await ruleWrote(watcher, "Open");
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Closed")).toEqual([]);
  });
});

it("the issue's scenario: an incident posts the runbook, pings the on-call moderators, opens a thread", async () => {
  const { room, watcher } = await watchedRoom(server, cast);
  await saveRule(moe, room, {
    name: "Incident",
    trigger: { on: "message", match: { keywords: ["incident"] } },
    actions: [
      { do: "post", text: "Runbook: https://runbook.example/incident" },
      { do: "notify", role: "moderator", text: "On call: {user} reported an incident" },
      { do: "reply", text: "Thread for this incident: post updates here" },
    ],
  });
  const hit = await say(bob, room, "incident: checkout is down");
  const [runbook, ping, thread] = await ruleWrote(watcher, "Incident", 3);
  expect(textOf(runbook)).toBe("Runbook: https://runbook.example/incident");
  expect(textOf(ping).split("\n")[0]).toBe("On call: bob reported an incident");
  expect(textOf(ping).split("\n")[1]!.split(" ").sort()).toEqual(["@ada", "@moe"]);
  expect(thread).toMatchObject({
    data: { text: "Thread for this incident: post updates here", replyTo: hit },
  });
  // In the rule's order, right after the post that set it off.
  expect([runbook!.seq, ping!.seq, thread!.seq]).toEqual([hit + 1, hit + 2, hit + 3]);
  // The thread is one: a reply in it from the member is in the same thread.
  const update = await bob.api.postMessage(room, {
    text: "rolled back",
    clientId: crypto.randomUUID(),
    replyTo: hit,
  });
  await watcher.untilSeq(update.seq);
  expect(
    posted(watcher.events)
      .filter((e) => e.data.replyTo === hit)
      .map((e) => e.data.text),
  ).toEqual(["Thread for this incident: post updates here", "rolled back"]);
});
