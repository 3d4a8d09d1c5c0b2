/**
 * Rules at work through the real server, the second half (docs/automation.md): what keeps rules
 * safe and dependable. Loop protection (a rule's own action never sets it off again; two rules
 * feeding each other stop at the room's 30 actions a minute, and the room goes on answering);
 * the dry run over real history and a schedule's next times; timed rules across a stopped
 * server and a killed runtime (fired once after); a firing cut off by a crash replayed after a
 * restart, its webhook delivered once whatever is replayed (the firing, the integrations' feed);
 * and a deleted rule brought back by its saver's undo, firing again.
 */
import { DatabaseSync } from "node:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { ApiError, EdgechatApi, type EventType, type RoomEvent } from "../../src/client/index.ts";
import { nextTimes } from "../../src/automation/cron.ts";
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
  staffedRoom,
  textOf,
  watchedRoom,
  type Cast,
} from "./rules-support.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let moe: Guest;
let cast: Cast;

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada, bob, moe] = await signIn(server, "ada", "bob", "moe");
    cast = { owner: ada, moderator: moe, member: bob };
  },
  { vars: { WEBHOOK_ALLOW_LOOPBACK: "true", WEBHOOK_RETRY_DELAYS: "1,1,1" } },
);

type Fired = { type: string; data: { rule: { id: string }; event?: RoomEvent; dueAt?: number } };

/** The `automation.fired` bodies `path` received, each checked against the endpoint's secret. */
function firedAt(path: string, secret: string): Fired[] {
  const reference = new StandardWebhook(secret);
  return receiver
    .at(path)
    .filter((request) => {
      reference.verify(request.body, request.headers);
      return (JSON.parse(request.body) as Fired).type === "automation.fired";
    })
    .map((request) => JSON.parse(request.body) as Fired);
}

/** An endpoint of `room`'s at the local receiver, for `eventTypes`. */
async function endpoint(room: string, eventTypes: EventType[] = ["room.topic_changed"]) {
  const path = `/hook-${room}`;
  const { webhook, secret } = await ada.api
    .webhooks(room)
    .create({ url: receiver.url(path), eventTypes });
  return { path, webhook, secret };
}

/** Opens the SQLite file of `room`'s Durable Object (found by the name in its `room` table). */
function withRoomFile(room: string, alter: (db: DatabaseSync) => void): void {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".sqlite")) files.push(path);
    }
  };
  walk(server.persistDir);
  for (const file of files) {
    const db = new DatabaseSync(file);
    try {
      const hasRoom = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'room'")
        .get();
      const name = hasRoom && (db.prepare("SELECT name FROM room").get() as { name: string });
      if (name && name.name === room) return alter(db);
    } finally {
      db.close();
    }
  }
  throw new Error(`no SQLite file for room ${room}`);
}

describe("loop protection", () => {
  it("never lets a rule's own action set it off again: one firing", async () => {
    const { room, watcher } = await watchedRoom(server, cast);
    await saveRule(moe, room, {
      name: "Echo",
      trigger: { on: "message", match: { keywords: ["echo"] } },
      actions: [{ do: "post", text: "echo: {text}" }],
    });
    await say(bob, room, "echo hello");
    const [echo] = await ruleWrote(watcher, "Echo");
    // Its own post holds its keyword: the rule skips it.
    expect(textOf(echo)).toBe("echo: echo hello");
    await settled(room, ada, watcher);
    expect(byRule(watcher, "Echo")).toHaveLength(1);
  });

  it("stops two rules that set each other off at the room's 30 actions a minute; the room answers", async () => {
    const room = await staffedRoom(cast, "loop");
    const watcher = await connect(server.url, room, ada);
    for (const [name, hears, says] of [
      ["Ping", "ping", "pong"],
      ["Pong", "pong", "ping"],
    ] as const)
      await saveRule(moe, room, {
        name,
        trigger: { on: "message", match: { keywords: [hears] } },
        actions: [{ do: "post", text: says }],
      });
    const started = await say(bob, room, "ping");
    const loop = () => [...byRule(watcher, "Ping"), ...byRule(watcher, "Pong")];
    await waitUntil(() => loop().length >= 30, "30 actions", 30_000);
    // The 31st firing is over budget: nothing more comes.
    await sleep(2000);
    expect(loop()).toHaveLength(30);
    const texts = loop()
      .sort((a, b) => a.seq - b.seq)
      .map((event) => textOf(event));
    expect(texts).toEqual(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? "pong" : "ping")));
    const times = loop().map((event) => event.at);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(60_000);

    // The room goes on: a post, a topic, a rule's save and the rules' list all answer.
    const after = await say(bob, room, "still here");
    expect(after).toBeGreaterThan(started + 30);
    await ada.api.command(room, { type: "topic", clientId: crypto.randomUUID(), topic: "calm" });
    await saveRule(moe, room, {
      name: "Later",
      trigger: { on: "member_joined" },
      actions: [{ do: "post", text: "hi {user}" }],
    });
    expect((await moe.api.rules(room).list()).rules.map((r) => r.name)).toEqual([
      "Ping",
      "Pong",
      "Later",
    ]);
    await watcher.untilSeq(after);
    expect(loop()).toHaveLength(30);
  });
});

describe("dry run", () => {
  it("replays a rule over the room's history: its hits, what each would do, and the one over budget", async () => {
    const room = await staffedRoom(cast, "dry");
    const seqs: number[] = [];
    for (let i = 1; i <= 7; i++) seqs.push(await say(bob, room, `incident ${i}`));
    await say(bob, room, "nothing to see");
    const before = (await ada.api.events(room, 0, 1000)).lastSeq;
    const report = await moe.api.rules(room).dryRun({
      name: "Incident",
      enabled: false,
      trigger: { on: "message", match: { keywords: ["incident"] } },
      actions: [
        { do: "reply", text: "runbook for {user}" },
        { do: "react", emoji: "🚨" },
        { do: "notify", role: "moderator", text: "{user} reported {text}" },
        { do: "topic", topic: "Incident: {text}" },
        { do: "post", text: "all hands" },
      ],
    });
    expect(report.scanned).toBe(before);
    expect(report.hits.map((hit) => hit.seq)).toEqual(seqs);
    // Five actions a firing: six fit in the room's 30 a minute, the seventh is dropped whole.
    expect(report.hits.slice(0, 6).every((hit) => hit.skipped === undefined)).toBe(true);
    expect(report.hits[6]!.skipped).toBe(
      "over budget: the room's rules may take 30 actions a minute",
    );
    expect(report.hits[0]).toMatchObject({
      summary: 'bob posted "incident 1"',
      actions: [
        `reply to #${seqs[0]}: "runbook for bob"`,
        `react 🚨 on #${seqs[0]}`,
        'notify moderator+ (2 people): "bob reported incident 1"',
        'set the topic to "Incident: incident 1"',
        'post "all hands"',
      ],
    });
    // Nothing was done: the log is as it was.
    expect((await ada.api.events(room, 0, 1000)).lastSeq).toBe(before);

    // A member may not; a rule the room would refuse is refused here too.
    const refused = await bob.api
      .rules(room)
      .dryRun({
        name: "x",
        trigger: { on: "member_left" },
        actions: [{ do: "post", text: "bye" }],
      })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "forbidden", status: 403 });
    const tag = crypto.randomUUID().slice(0, 8);
    const owner = await new EdgechatApi(server.url).register(`dry_${tag}`, "correct horse");
    const secret = `secret-${tag}`;
    await new EdgechatApi(server.url, owner.token).createRoom({
      name: secret,
      visibility: "private",
    });
    const hidden = await bob.api
      .rules(secret)
      .dryRun({ name: "x", trigger: { on: "member_left" }, actions: [{ do: "post", text: "bye" }] })
      .catch((error: unknown) => error);
    expect(hidden).toMatchObject({ code: "not_found", status: 404 });
    const bad = await moe.api
      .rules(room)
      .dryRun({
        name: "x",
        trigger: { on: "member_left" },
        actions: [{ do: "react", emoji: "👋" }],
      })
      .catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad).toMatchObject({ code: "bad_request", status: 400 });
  });

  it("lists a schedule's next five times, in its zone", async () => {
    const room = await staffedRoom(cast, "dry-cron");
    const trigger = { on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" } as const;
    const asked = Date.now();
    const report = await moe.api.rules(room).dryRun({
      name: "Standup",
      trigger,
      actions: [{ do: "post", text: "standup" }],
    });
    expect(report.hits).toEqual([]);
    expect(report.upcoming).toEqual(nextTimes(trigger, asked, 5));
    for (const at of report.upcoming!)
      expect(
        new Intl.DateTimeFormat("en-GB", {
          timeZone: "Europe/Paris",
          weekday: "short",
          hour: "2-digit",
          minute: "2-digit",
        }).format(at),
      ).toBe("Mon 09:00");
  });
});

describe("across restarts", () => {
  it("fires a `time` rule due while the server was down once it is back, exactly once", async () => {
    const { room, watcher } = await watchedRoom(server, cast, "down");
    const { path, webhook, secret } = await endpoint(room);
    const at = Date.now() + 2000;
    const { rule } = await saveRule(moe, room, {
      name: "Deadline",
      trigger: { on: "time", at },
      actions: [
        { do: "post", text: "the deadline passed" },
        { do: "webhook", webhook: webhook.id },
      ],
    });
    watcher.close();
    // The whole server stopped until the rule is past due, then started on its storage.
    await server.restart(async () => {
      await sleep(Math.max(0, at - Date.now()) + 1500);
    });
    expect(Date.now()).toBeGreaterThan(at);
    // Read over REST: the request that wakes the room may come before or after the firing.
    const deadlines = async () =>
      (await ada.api.events(room, 0, 1000)).events.filter((e) => e.actor.name === "Rule: Deadline");
    const [post] = await waitUntil(
      async () => ((await deadlines()).length > 0 ? deadlines() : undefined),
      "the firing after the restart",
      30_000,
    );
    expect(textOf(post)).toBe("the deadline passed");
    expect(post!.at).toBeGreaterThan(at);
    await waitUntil(() => firedAt(path, secret).length > 0, "the webhook");
    await sleep(2000);
    expect(await deadlines()).toHaveLength(1);
    expect(firedAt(path, secret)).toMatchObject([{ data: { rule: { id: rule.id }, dueAt: at } }]);
    await waitUntil(async () => {
      const listed = (await moe.api.rules(room).list()).rules.find((r) => r.id === rule.id);
      return listed !== undefined && listed.nextAt === undefined;
    }, "listed with no next time");
  });

  it("fires a `time` rule once when the runtime is killed at its time", async () => {
    const { room } = await watchedRoom(server, cast, "crash");
    const at = Date.now() + 2000;
    await saveRule(moe, room, {
      name: "Bell",
      trigger: { on: "time", at },
      actions: [{ do: "post", text: "ding" }],
    });
    const bells = async () =>
      (await ada.api.events(room, 0, 1000)).events.filter((e) => e.actor.name === "Rule: Bell");
    // Killed right about when it fires: before, during or after the post, whichever it lands on.
    await sleep(Math.max(0, at - Date.now() - 20));
    await server.crash();
    await waitUntil(async () => (await bells()).length > 0, "the post", 30_000);
    await server.restart();
    await sleep(1500);
    expect((await bells()).map((e) => textOf(e))).toEqual(["ding"]);
  });

  it("replays a firing a crash cut off after a restart; its webhook is delivered once, whatever is replayed", async () => {
    const { room, watcher } = await watchedRoom(server, cast, "replay");
    // The endpoint wants posts too: the integrations' feed delivers them beside the firings.
    const { path, webhook, secret } = await endpoint(room, ["message.posted"]);
    await saveRule(moe, room, {
      name: "Deploy",
      trigger: { on: "message", match: { keywords: ["deploy"] } },
      actions: [
        { do: "webhook", webhook: webhook.id },
        { do: "reply", text: "deploy noted" },
      ],
    });
    const seq = await say(bob, room, "deploy 42");
    await ruleWrote(watcher, "Deploy");
    await waitUntil(() => firedAt(path, secret).length === 1, "the firing delivered");
    await settled(room, ada, watcher);
    await waitUntil(async () => {
      const { deliveries } = await ada.api.webhooks(room).deliveries(webhook.id);
      return deliveries.length > 0 && deliveries.every((d) => d.status === "delivered");
    }, "every delivery made");
    const requestsBefore = receiver.at(path).length;
    watcher.close();

    // As if the runtime had died after the firing and before its batch was crossed off, and
    // after the feed sent the posts and before it moved its cursor: both are replayed.
    await server.restart(() =>
      withRoomFile(room, (db) => {
        db.prepare("INSERT INTO automation_pending (first_seq, last_seq, at) VALUES (?, ?, ?)").run(
          seq,
          seq,
          Date.now() - 60_000,
        );
        db.prepare("UPDATE integration_outbox SET flushed_seq = ?").run(seq - 1);
      }),
    );
    const after = await connect(server.url, room, ada);
    // The socket woke the room, whose clock found the batch stranded; the next post runs the
    // feed again from its old cursor.
    await settled(room, ada, after);
    // The replay runs at the alarm the wake set (its time is long past): a margin for a busy
    // machine before the room's file is read again.
    await sleep(3000);
    let left = -1;
    await server.restart(() =>
      withRoomFile(room, (db) => {
        left = (db.prepare("SELECT count(*) AS n FROM automation_pending").get() as { n: number })
          .n;
      }),
    );
    expect(left).toBe(0);
    const sentinel = await say(ada, room, "one more");
    await waitUntil(
      () => receiver.at(path).some((r) => JSON.parse(r.body).data?.event?.seq === sentinel),
      "the feed caught up",
    );
    await sleep(1500);
    // One automation.fired for the one firing; the feed's posts each once; one reply.
    expect(firedAt(path, secret).map((body) => body.data.event?.seq)).toEqual([seq]);
    const ids = receiver.at(path).map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(receiver.at(path).length).toBeGreaterThan(requestsBefore);
    const replies = (await ada.api.events(room, 0, 1000)).events.filter(
      (e) => e.actor.name === "Rule: Deploy",
    );
    expect(replies).toHaveLength(1);
  });
});

it("brings a deleted rule back with its saver's undo, and it fires again", async () => {
  const { room, watcher } = await watchedRoom(server, cast, "undo");
  const { rule } = await saveRule(moe, room, {
    name: "Runbook",
    trigger: { on: "message", match: { keywords: ["runbook"] } },
    actions: [{ do: "reply", text: "https://runbook.example" }],
  });
  await moe.api.rules(room).delete(rule.id);
  await say(bob, room, "runbook please");
  await settled(room, ada, watcher);
  expect(byRule(watcher, "Runbook")).toEqual([]);

  const socket = await connect(server.url, room, moe);
  const undoneAt = await socket.conn.undo();
  await watcher.untilSeq(undoneAt);
  expect(watcher.events.find((e) => e.seq === undoneAt)).toMatchObject({
    type: "rule.saved",
    actor: { name: "moe" },
    data: { rule: { id: rule.id, name: "Runbook" } },
  });
  const hit = await say(bob, room, "runbook please, again");
  const [reply] = await ruleWrote(watcher, "Runbook");
  expect(reply).toMatchObject({ data: { text: "https://runbook.example", replyTo: hit } });
});
