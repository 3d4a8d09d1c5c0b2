/**
 * The Slack bridge end to end (docs/integrations.md, "Slack bridge"): the real worker with real
 * local Queues, and the fake Slack (test/support/fake-slack.ts) as both Slack's Web API (it checks
 * every request's shape and auth as Slack documents them) and Slack's Events API (it signs and
 * retries as Slack does, and sends the bot's own posts, edits and deletes back). An admin links a
 * channel to a room; messages, replies, edits and deletes cross both ways, once, without echoes,
 * under Slack's retries, rate limits and refusals; forged and stale requests get nothing in.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import type { Message, SlackLink } from "../../src/protocol/index.ts";
import {
  signSlackRequest,
  startFakeSlack,
  type FakeSlack,
  type SlackMessage,
} from "../support/fake-slack.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { freshRoom, guest, waitUntil, type Guest } from "./helpers.ts";

const APP = {
  botToken: "xoxb-1111-2222-bridgeE2E",
  signingSecret: "bridge-e2e-signing-secret-0123456789",
  teamId: "T0EDGE0003",
  appId: "A0EDGE0003",
  botUserId: "U0EDGEBOT3",
  botId: "B0EDGEBOT3",
};
const ANN = "U0ANN00003";
const BEN = "U0BEN00003";
/** One channel per test, so that no test sees another's messages. */
const CHANNELS = Array.from({ length: 30 }, (_, i) => `C0BRIDGE${String(i).padStart(2, "0")}`);
const WITHOUT_BOT = "C0NOBOT003";

let server: TestServer;
let slack: FakeSlack;
let root: EdgechatApi;
let ada: Guest;
let nextChannel = 0;

beforeAll(async () => {
  slack = await startFakeSlack({
    ...APP,
    channels: CHANNELS,
    channelsWithoutBot: [WITHOUT_BOT],
    users: {
      [ANN]: { name: "ann", displayName: "Ann" },
      [BEN]: { name: "ben", displayName: "", realName: "Ben Jones" },
    },
  });
  server = await startServer({
    vars: {
      ADMIN_USERNAMES: "root",
      SLACK_SIGNING_SECRET: APP.signingSecret,
      SLACK_BOT_TOKEN: APP.botToken,
      SLACK_API_BASE: slack.apiBase,
    },
  });
  slack.setEventsUrl(`${server.url}/api/slack/events`);
  const session = await new EdgechatApi(server.url).register("root", "root's password 1");
  root = new EdgechatApi(server.url, session.token);
  ada = await guest(server.url, "ada");
});

afterAll(async () => {
  await slack?.close();
  await server?.dispose();
});

afterEach(async () => {
  await slack.settled();
  expect(slack.violations).toEqual([]);
});

// ---- helpers

async function adminCall<T>(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${root.token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** A fresh room of ada's linked to a fresh channel. */
async function linked(
  channel = CHANNELS[nextChannel++]!,
): Promise<{ room: string; channel: string }> {
  const room = await freshRoom(ada);
  const made = await adminCall<SlackLink>("POST", "/api/admin/slack/links", { channel, room });
  expect(made.status).toBe(201);
  return { room, channel };
}

async function roomMessages(room: string): Promise<Message[]> {
  return (await ada.api.messages(room, { limit: 200 })).messages.reverse();
}

const post = (room: string, text: string, replyTo?: number) =>
  ada.api.postMessage(room, {
    text,
    clientId: crypto.randomUUID(),
    ...(replyTo !== undefined && { replyTo }),
  });

/** Waits for the room's messages to satisfy `check`. */
const roomUntil = (room: string, check: (messages: Message[]) => boolean, what: string) =>
  waitUntil(async () => {
    const messages = await roomMessages(room);
    return check(messages) ? messages : undefined;
  }, what);

const slackUntil = (channel: string, check: (messages: SlackMessage[]) => boolean, what: string) =>
  waitUntil(() => (check(slack.messages(channel)) ? slack.messages(channel) : undefined), what);

const callsOf = (method: string, channel: string) =>
  slack.calls.filter((call) => call.method === method && call.args.channel === channel);

/** Lets the queue and Slack's echoes run their course, then the counts can be compared. */
async function quiet(ms = 2500): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  await slack.settled();
}

const eventsUrl = () => `${server.url}/api/slack/events`;

// ---- tests

it("answers Slack's url_verification with its challenge", async () => {
  const verification = await slack.verifyUrl();
  expect(verification.verified).toBe(true);
  expect(JSON.parse(verification.answer!)).toEqual({ challenge: verification.challenge });
});

it("refuses stale, forged, unsigned and re-bodied requests with 401, and posts nothing", async () => {
  const { room, channel } = await linked();
  const event = {
    type: "message",
    channel,
    user: ANN,
    text: "should never arrive",
    ts: "1700000000.000100",
    event_ts: "1700000000.000100",
    channel_type: "channel",
  };
  const once = { retryDelaysMs: [] };
  const stale = await slack.sendEvent(event, {
    ...once,
    timestamp: Math.floor(Date.now() / 1000) - 400,
  });
  const forged = await slack.sendEvent(event, { ...once, signingSecret: "not-the-app-secret" });
  for (const delivery of [stale, forged]) {
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]!.status).toBe(401);
    const body = JSON.parse(delivery.attempts[0]!.answer!) as { error: { code: string } };
    expect(body.error.code).toBe("unauthorized");
  }
  expect(JSON.parse(stale.attempts[0]!.answer!).error.message).toMatch(/300 s/);

  // A valid request's headers replayed on another body.
  const good = await slack.sendEvent({ ...event, type: "app_mention" }, once);
  expect(good.attempts[0]!.status).toBe(200);
  const { headers, body } = good.attempts[0]!;
  const tampered = body.replace("app_mention", "message");
  const replayed = await fetch(eventsUrl(), { method: "POST", headers, body: tampered });
  expect(replayed.status).toBe(401);
  const unsigned = await fetch(eventsUrl(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: tampered,
  });
  expect(unsigned.status).toBe(401);
  expect(((await unsigned.json()) as { error: { message: string } }).error.message).toMatch(
    /X-Slack-Signature/,
  );
  await quiet(1500);
  expect(await roomMessages(room)).toEqual([]);
});

it("mirrors a Slack person's post, thread reply, edit and delete into the room", async () => {
  const { room, channel } = await linked();
  const parent = await slack.userPosts(
    channel,
    ANN,
    "Deploy <https://ci.example/7|build 7> &amp; go?",
  );
  expect(parent.delivery!.attempts[0]!.status).toBe(200);
  const [first] = await roomUntil(room, (m) => m.length === 1, "the post");
  expect(first!.text).toBe("Deploy build 7 (https://ci.example/7) & go?");
  expect(first!.author.name).toBe("Ann (Slack)");
  expect(first!.author.id).toMatch(/^svc_[0-9a-f]{32}$/);

  await slack.userPosts(channel, BEN, "on it", { thread_ts: parent.ts });
  const messages = await roomUntil(room, (m) => m.length === 2, "the reply");
  expect(messages[1]!.replyTo).toBe(first!.id);
  // No display name: the real name.
  expect(messages[1]!.author.name).toBe("Ben Jones (Slack)");

  await slack.userEdits(channel, parent.ts, "Deploy build 8?");
  await roomUntil(
    room,
    (m) => m[0]!.text === "Deploy build 8?" && m[0]!.editedAt !== undefined,
    "the edit",
  );
  await slack.userDeletes(channel, parent.ts);
  await roomUntil(room, (m) => m[0]!.deleted === true, "the delete");

  // Another app's bot: named by its username, no users.info for it.
  await slack.sendEvent({
    type: "message",
    subtype: "bot_message",
    channel,
    bot_id: "B0OTHERAPP",
    username: "CI",
    text: "build 8 passed",
    ts: "1900000000.000001",
    event_ts: "1900000000.000001",
    channel_type: "channel",
  });
  const withBot = await roomUntil(room, (m) => m.length === 3, "another app's bot message");
  expect(withBot[2]!.author.name).toBe("CI (Slack)");
  expect(withBot[2]!.text).toBe("build 8 passed");

  // Same person, same author, in another room too; one users.info per person.
  const other = await linked();
  await slack.userPosts(other.channel, ANN, "hello elsewhere");
  const [there] = await roomUntil(other.room, (m) => m.length === 1, "the other room's post");
  expect(there!.author.id).toBe(first!.author.id);
  const lookups = slack.calls.filter((call) => call.method === "users.info");
  expect(lookups.filter((call) => call.args.user === BEN)).toHaveLength(1);
  // Nothing went back to Slack.
  expect(callsOf("chat.postMessage", channel)).toHaveLength(0);
  expect(callsOf("chat.update", channel)).toHaveLength(0);
});

it("posts room messages to Slack as their author, with replies in threads, edits and deletes", async () => {
  const { room, channel } = await linked();
  const { seq: parentSeq } = await post(room, "release <v2> & notes");
  const [posted] = await slackUntil(channel, (m) => m.length === 1, "the post in Slack");
  expect(posted!.text).toBe("release &lt;v2&gt; &amp; notes");
  expect(posted!.username).toBe("ada");
  expect(posted!.bot_id).toBe(APP.botId);

  const [call] = callsOf("chat.postMessage", channel);
  expect(call!.httpMethod).toBe("POST");
  expect(call!.headers.authorization).toBe(`Bearer ${APP.botToken}`);
  expect(call!.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(call!.args).toEqual({ channel, text: "release &lt;v2&gt; &amp; notes", username: "ada" });

  const { seq: replySeq } = await post(room, "a reply", parentSeq);
  const inSlack = await slackUntil(channel, (m) => m.length === 2, "the reply in Slack");
  expect(inSlack[1]!.thread_ts).toBe(posted!.ts);
  // A reply to the reply joins the same thread (Slack's threads are one level).
  await post(room, "deeper", replySeq);
  const deeper = await slackUntil(channel, (m) => m.length === 3, "the second reply");
  expect(deeper[2]!.thread_ts).toBe(posted!.ts);

  await ada.api.command(room, {
    type: "edit",
    clientId: crypto.randomUUID(),
    messageId: parentSeq,
    text: "release v2.1",
  });
  await slackUntil(channel, (m) => m[0]!.text === "release v2.1", "the edit in Slack");
  await ada.api.command(room, {
    type: "delete",
    clientId: crypto.randomUUID(),
    messageId: replySeq,
  });
  await slackUntil(
    channel,
    (m) => m.length === 2 && !m.some((x) => x.text === "a reply"),
    "the delete",
  );
  // Undone: the message is back in Slack, in its thread, as a new Slack message.
  await ada.api.command(room, { type: "undo", clientId: crypto.randomUUID() });
  const restored = await slackUntil(channel, (m) => m.length === 3, "the restore");
  const back = restored.find((m) => m.text === "a reply")!;
  expect(back.thread_ts).toBe(posted!.ts);
  // A redaction takes the text out of Slack too.
  await ada.api.command(room, {
    type: "redact",
    clientId: crypto.randomUUID(),
    messageId: parentSeq,
  });
  await slackUntil(channel, (m) => !m.some((x) => x.text === "release v2.1"), "the redaction");
});

it("never echoes: each message is once in the room and once in Slack, edits never bounce", async () => {
  const { room, channel } = await linked();
  const { seq } = await post(room, "from the room");
  await slackUntil(channel, (m) => m.length === 1, "the room's post in Slack");
  const fromSlack = await slack.userPosts(channel, ANN, "from Slack");
  const [, slackOne] = await roomUntil(room, (m) => m.length === 2, "Slack's post in the room");
  // A room reply to the Slack person's message goes in its thread.
  await post(room, "answered in the thread", slackOne!.id);
  const threaded = await slackUntil(channel, (m) => m.length === 3, "the reply in Slack");
  expect(threaded[2]!.thread_ts).toBe(fromSlack.ts);

  await ada.api.command(room, {
    type: "edit",
    clientId: crypto.randomUUID(),
    messageId: seq,
    text: "room edit",
  });
  await slackUntil(channel, (m) => m[0]!.text === "room edit", "the room's edit in Slack");
  await slack.userEdits(channel, fromSlack.ts, "slack edit");
  await roomUntil(room, (m) => m[1]!.text === "slack edit", "Slack's edit in the room");
  await quiet();

  const messages = await roomMessages(room);
  const texts = ["room edit", "slack edit", "answered in the thread"];
  expect(messages.map((m) => m.text)).toEqual(texts);
  expect(slack.messages(channel).map((m) => m.text)).toEqual(texts);
  expect(callsOf("chat.postMessage", channel)).toHaveLength(2);
  expect(callsOf("chat.update", channel)).toHaveLength(1);
  const events = (await ada.api.events(room, 0, 1000)).events;
  expect(events.filter((e) => e.type === "message.posted")).toHaveLength(3);
  const edits = events.filter((e) => e.type === "message.edited");
  expect(edits.map((e) => e.actor.name)).toEqual(["ada", "Ann (Slack)"]);
  // Slack did send the echoes back: the bridge dropped them.
  const echoes = slack.deliveries.filter(
    (d) =>
      d.envelope.event.channel === channel && JSON.stringify(d.envelope.event).includes(APP.botId),
  );
  expect(echoes.length).toBeGreaterThanOrEqual(3);
});

it("carries an event out once however Slack delivers it again (retries, exact replays)", async () => {
  const { room, channel } = await linked();
  const first = await slack.userPosts(channel, ANN, "exactly once");
  const attempt = first.delivery!.attempts[0]!;
  // The recorded request replayed byte for byte, twice (within the 300 s window).
  for (let i = 0; i < 2; i++) {
    const again = await fetch(eventsUrl(), {
      method: "POST",
      headers: attempt.headers,
      body: attempt.body,
    });
    expect(again.status).toBe(200);
  }
  // Slack's own retries: the same body signed anew, X-Slack-Retry-Num 1..3.
  for (const num of [1, 2, 3]) {
    const timestamp = Math.floor(Date.now() / 1000);
    const retried = await fetch(eventsUrl(), {
      method: "POST",
      headers: {
        ...attempt.headers,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signSlackRequest(APP.signingSecret, timestamp, attempt.body),
        "x-slack-retry-num": String(num),
        "x-slack-retry-reason": "http_timeout",
      },
      body: attempt.body,
    });
    expect(retried.status).toBe(200);
  }
  await roomUntil(room, (m) => m.length === 1, "the post");
  await quiet();
  expect(await roomMessages(room)).toHaveLength(1);
});

/** A request URL in front of the worker that answers its first request late, or with a 500. */
async function flakyFront(
  first: "slow" | "error",
): Promise<{ url: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const front = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const n = seen.push(String(request.headers["x-slack-retry-num"] ?? "0"));
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        ([name]) => name !== "host" && name !== "content-length",
      ),
    ) as Record<string, string>;
    // The worker gets every request, and carries each out: only the answer is late or lost.
    const answer = await fetch(eventsUrl(), {
      method: "POST",
      headers,
      body: Buffer.concat(chunks),
    });
    await answer.arrayBuffer();
    if (n === 1 && first === "slow") await new Promise((resolve) => setTimeout(resolve, 3500));
    if (response.destroyed) return;
    response.writeHead(n === 1 && first === "error" ? 500 : answer.status).end();
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/api/slack/events`;
  return { url, server: front, seen };
}

it("posts once when Slack retries after a late or failed answer", async () => {
  const { room, channel } = await linked();
  for (const [mode, reason] of [
    ["slow", "http_timeout"],
    ["error", "http_error"],
  ] as const) {
    const front = await flakyFront(mode);
    slack.setEventsUrl(front.url);
    try {
      const sent = await slack.userPosts(channel, ANN, `through a ${mode} answer`);
      expect(sent.delivery!.attempts.map((a) => a.retryNum)).toEqual([0, 1]);
      expect(sent.delivery!.attempts[0]!.failure).toBe(reason);
      expect(sent.delivery!.attempts[1]!.headers["x-slack-retry-reason"]).toBe(reason);
      expect(front.seen).toEqual(["0", "1"]);
    } finally {
      slack.setEventsUrl(eventsUrl());
      front.server.closeAllConnections();
      front.server.close();
    }
  }
  await roomUntil(room, (m) => m.length === 2, "both posts");
  await quiet();
  expect((await roomMessages(room)).map((m) => m.text)).toEqual([
    "through a slow answer",
    "through a error answer",
  ]);
});

it("waits out a 429's Retry-After, then posts", async () => {
  const { channel, room } = await linked();
  slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
  const before = slack.calls.length;
  await post(room, "after the rate limit");
  await slackUntil(channel, (m) => m.length === 1, "the post after the 429");
  const tries = slack.calls.slice(before).filter((call) => call.method === "chat.postMessage");
  expect(tries.map((call) => call.status)).toEqual([429, 200]);
  expect(slack.messages(channel)[0]!.text).toBe("after the rate limit");
});

it("records a refusal that will not pass on the link, without retrying it", async () => {
  const { room } = await linked(WITHOUT_BOT);
  await post(room, "nobody will see this");
  const link = await waitUntil(async () => {
    const { body } = await adminCall<{ links: SlackLink[] }>("GET", "/api/admin/slack/links");
    return body.links.find((l) => l.room === room && l.lastError !== null);
  }, "the error on the link");
  expect(link.lastError).toMatchObject({ direction: "to_slack", code: "not_in_channel" });
  expect(link.lastError!.message).toMatch(/invite the bot/);
  await quiet(2000);
  expect(callsOf("chat.postMessage", WITHOUT_BOT)).toHaveLength(1);

  slack.failNext("chat.postMessage", { okFalse: "channel_not_found" });
  const { channel, room: other } = await linked();
  const before = slack.calls.length;
  await post(other, "to a channel that is gone");
  const gone = await waitUntil(async () => {
    const { body } = await adminCall<{ links: SlackLink[] }>("GET", "/api/admin/slack/links");
    return body.links.find((l) => l.channel === channel && l.lastError !== null);
  }, "channel_not_found on the link");
  expect(gone.lastError!.code).toBe("channel_not_found");
  await quiet(2000);
  const tries = slack.calls.slice(before).filter((call) => call.method === "chat.postMessage");
  expect(tries).toHaveLength(1);
  expect(slack.messages(channel)).toEqual([]);
});

it("lets admins link one channel to one room, and unlink it", async () => {
  const room = await freshRoom(ada);
  const channel = CHANNELS[nextChannel++]!;
  const made = await adminCall<SlackLink>("POST", "/api/admin/slack/links", { channel, room });
  expect(made.status).toBe(201);
  expect(made.body).toMatchObject({ channel, room, lastError: null, lastMessageAt: null });
  expect(made.body.createdBy.name).toBe("root");

  const again = await adminCall<{ error: { code: string } }>("POST", "/api/admin/slack/links", {
    channel,
    room: await freshRoom(ada),
  });
  expect(again.status).toBe(409);
  const sameRoom = await adminCall<{ error: { code: string } }>("POST", "/api/admin/slack/links", {
    channel: CHANNELS[nextChannel++]!,
    room,
  });
  expect(sameRoom.status).toBe(409);
  const noRoom = await adminCall<{ error: { code: string } }>("POST", "/api/admin/slack/links", {
    channel: CHANNELS[nextChannel++]!,
    room: "no-such-room-here",
  });
  expect(noRoom.status).toBe(404);
  const badChannel = await adminCall<{ error: { code: string; message: string } }>(
    "POST",
    "/api/admin/slack/links",
    { channel: "#general", room },
  );
  expect(badChannel.status).toBe(400);
  expect(badChannel.body.error.message).toMatch(/channel id/);
  const asGuest = await fetch(`${server.url}/api/admin/slack/links`, {
    headers: { authorization: `Bearer ${ada.token}` },
  });
  expect(asGuest.status).toBe(403);

  const removed = await adminCall<SlackLink>("DELETE", `/api/admin/slack/links/${channel}`);
  expect(removed.status).toBe(200);
  expect(removed.body.room).toBe(room);
  expect((await adminCall("DELETE", `/api/admin/slack/links/${channel}`)).status).toBe(404);
  // Both are in the instance audit log, with the room and the channel.
  const audit = await waitUntil(async () => {
    const { body } = await adminCall<{
      entries: { action: string; target: { room?: string }; data: { channel?: string } }[];
    }>("GET", "/api/admin/audit?limit=200");
    const mine = body.entries.filter(
      (e) => e.action.startsWith("slack.") && e.target.room === room,
    );
    return mine.length === 2 ? mine : undefined;
  }, "the audit entries");
  expect(audit.map((e) => e.action).sort()).toEqual(["slack.linked", "slack.unlinked"]);
  expect(audit.every((e) => e.data.channel === channel)).toBe(true);
  // Unlinked: nothing crosses either way.
  await post(room, "after the unlink");
  await slack.userPosts(channel, ANN, "after the unlink too");
  await quiet(2000);
  expect(slack.messages(channel).map((m) => m.text)).toEqual(["after the unlink too"]);
  expect(await roomMessages(room)).toHaveLength(1);
});

it("answers any signed body with a 200 or the contract's 400, never a 5xx", async () => {
  const { room, channel } = await linked();
  const body = fc.oneof(
    fc.json(),
    fc.string({ unit: "binary" }),
    fc
      .record({
        type: fc.constantFrom("event_callback", "url_verification", "app_rate_limited"),
        team_id: fc.oneof(fc.constant(APP.teamId), fc.string()),
        event_id: fc.oneof(fc.stringMatching(/^Ev[0-9A-Z]{10}$/), fc.integer()),
        challenge: fc.string(),
        event: fc.record({
          type: fc.constantFrom("message", "reaction_added"),
          subtype: fc.constantFrom(undefined, "message_changed", "message_deleted", "bot_message"),
          channel: fc.constantFrom(channel, "C0NOTLINKED", 5),
          user: fc.string(),
          text: fc.oneof(fc.string({ unit: "binary" }), fc.constant(null)),
          ts: fc.oneof(fc.constant("1700000000.000100"), fc.string()),
          message: fc.anything(),
          deleted_ts: fc.string(),
        }),
      })
      .map((value) => JSON.stringify(value)),
  );
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(body, async (raw) => {
      const text = typeof raw === "string" ? raw : JSON.stringify(raw);
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(eventsUrl(), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": signSlackRequest(APP.signingSecret, timestamp, text),
        },
        body: text,
      });
      statuses.add(response.status);
      expect([200, 400]).toContain(response.status);
      if (response.status === 400) {
        const error = (await response.json()) as { error: { code: string; message: string } };
        expect(error.error.code).toBe("bad_request");
      } else await response.arrayBuffer();
    }),
    { numRuns: 150 },
  );
  expect(statuses).toEqual(new Set([200, 400]));
  await quiet(2000);
  // Whatever was posted came through the rules: valid texts only, by Slack authors.
  for (const message of await roomMessages(room)) expect(message.author.name).toMatch(/\(Slack\)$/);
});

it("documents its routes in the OpenAPI document", async () => {
  const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  expect(Object.keys(doc.paths["/api/slack/events"]!)).toEqual(["post"]);
  expect(Object.keys(doc.paths["/api/admin/slack/links"]!).sort()).toEqual(["get", "post"]);
  expect(Object.keys(doc.paths["/api/admin/slack/links/{channel}"]!)).toEqual(["delete"]);
});

it("keeps a message of the room out of Slack when the bridge's own author wrote it", async () => {
  const { room, channel } = await linked();
  await slack.userPosts(channel, ANN, "one");
  const [one] = await roomUntil(room, (m) => m.length === 1, "the post");
  // A room moderator deletes the Slack person's message: the bot may not delete it in Slack.
  await ada.api.command(room, {
    type: "delete",
    clientId: crypto.randomUUID(),
    messageId: one!.id,
  });
  await quiet(2000);
  expect(callsOf("chat.delete", channel)).toHaveLength(0);
  expect(slack.messages(channel).map((m) => m.text)).toEqual(["one"]);
});

it("is off, its routes a 404, without its two secrets", async () => {
  const off = await startServer({ vars: { ADMIN_USERNAMES: "root" } });
  try {
    const session = await new EdgechatApi(off.url).register("root", "root's password 1");
    const events = await fetch(`${off.url}/api/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "url_verification", challenge: "c" }),
    });
    expect(events.status).toBe(404);
    const body = (await events.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "not_found" });
    expect(body.error.message).toMatch(/SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN/);
    const links = await fetch(`${off.url}/api/admin/slack/links`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(links.status).toBe(404);
  } finally {
    await off.dispose();
  }
});
