import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SlackApi } from "../../src/integrations/slack-api.ts";
import {
  readManifest,
  signSlackRequest,
  startFakeSlack,
  type FakeSlack,
  type FakeSlackOptions,
} from "../support/fake-slack.ts";

const APP = {
  botToken: "xoxb-3333-4444-fakeSlackTEST",
  signingSecret: "fake-slack-test-signing-secret",
  teamId: "T0EDGE0002",
  appId: "A0EDGE0002",
  botUserId: "U0EDGEBOT2",
  botId: "B0EDGEBOT2",
};
const CHANNEL = "C0RANDOM01";
const PRIVATE = "G0SECRET01";
const ADA = "U0ADA00002";
const TS = /^\d{10}\.\d{6}$/;

const fakes: FakeSlack[] = [];
async function fake(options: Partial<FakeSlackOptions> = {}): Promise<FakeSlack> {
  const started = await startFakeSlack({
    ...APP,
    channels: [CHANNEL],
    privateChannels: [PRIVATE],
    users: { [ADA]: { name: "ada", displayName: "Ada" } },
    retryDelaysMs: [50, 50, 50],
    ...options,
  });
  fakes.push(started);
  return started;
}
afterAll(() => Promise.all(fakes.map((started) => started.close())));

/** What a request URL got: the headers and body of each request, and whether Slack hung up. */
type Received = { headers: IncomingHttpHeaders; body: string; hungUp: boolean };
type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

const receivers: Server[] = [];
afterEach(() => {
  for (const server of receivers.splice(0)) (server.closeAllConnections(), server.close());
});

/** A local request URL that answers the n-th request (from 0) as `reply` says. */
async function receiver(reply: (n: number, received: Received) => Reply = () => ({ status: 200 })) {
  const received: Received[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = {
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
      hungUp: false,
    };
    received.push(entry);
    response.on("close", () => {
      if (!response.writableFinished) entry.hungUp = true;
    });
    const { status, body = "", headers = {}, delayMs = 0 } = reply(received.length - 1, entry);
    if (delayMs > 0) await sleep(delayMs);
    if (!response.destroyed) response.writeHead(status, headers).end(body);
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/slack/events`;
  return { url, received };
}

/** The receiving side's check, written apart from the fake's signer: v0, HMAC-SHA256, 300 s. */
function signedBySlack(received: Received, secret = APP.signingSecret): boolean {
  const timestamp = Number(received.headers["x-slack-request-timestamp"]);
  if (Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const expected = createHmac("sha256", secret)
    .update(`v0:${timestamp}:${received.body}`)
    .digest("hex");
  const given = String(received.headers["x-slack-signature"]);
  return given.length === 67 && timingSafeEqual(Buffer.from(given), Buffer.from(`v0=${expected}`));
}

const eventOf = (received: Received) => JSON.parse(received.body).event;

async function raw(slack: FakeSlack, method: string, init: RequestInit) {
  const response = await fetch(`${slack.apiBase}/${method}`, init);
  return { status: response.status, body: await response.json() };
}
const bearer = { authorization: `Bearer ${APP.botToken}` };

describe("the fake's Web API: requests Slack would take amiss are violations", () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await fake();
  });
  afterEach(() => {
    slack.violations.length = 0;
  });
  const problems = () => slack.violations.map((violation) => violation.problem);

  it("JSON without charset: done, with Slack's missing_charset warning", async () => {
    const { body } = await raw(slack, "chat.postMessage", {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ channel: CHANNEL, text: "hi" }),
    });
    expect(body).toMatchObject({
      ok: true,
      warning: "missing_charset",
      response_metadata: { warnings: ["missing_charset"] },
    });
    expect(problems()).toEqual(["JSON without charset=utf-8 (Slack warns missing_charset)"]);
  });

  it("a form with a charset: superfluous_charset", async () => {
    const { body } = await raw(slack, "users.info", {
      method: "POST",
      headers: { ...bearer, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: `user=${ADA}`,
    });
    expect(body).toMatchObject({ ok: true, warning: "superfluous_charset" });
    expect(problems()).toEqual(["a form with a charset (Slack warns superfluous_charset)"]);
  });

  it("GET: answered, as Slack does for read methods, but our client must POST", async () => {
    const { body } = await raw(slack, "auth.test", { headers: bearer });
    expect(body).toMatchObject({ ok: true, user_id: APP.botUserId });
    expect(problems()).toEqual(["GET: the client must POST"]);
  });

  it("a wrong token: invalid_auth; none: not_authed; a token in JSON is ignored", async () => {
    const wrong = await raw(slack, "auth.test", {
      method: "POST",
      headers: { authorization: "Bearer xoxb-wrong" },
    });
    expect(wrong.body).toEqual({ ok: false, error: "invalid_auth" });
    const inJson = await raw(slack, "chat.postMessage", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ token: APP.botToken, channel: CHANNEL, text: "hi" }),
    });
    expect(inJson.body).toEqual({ ok: false, error: "not_authed" });
    expect(problems()).toEqual([
      "a token the workspace does not know",
      "token in a JSON body: Slack ignores it",
      "no token: send Authorization: Bearer",
    ]);
  });

  it("a token in a form field is Slack's other way, and no violation", async () => {
    const { body } = await raw(slack, "auth.test", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: APP.botToken }).toString(),
    });
    expect(body).toMatchObject({ ok: true, team_id: APP.teamId });
    expect(problems()).toEqual([]);
  });

  it("JSON sent as a form: no arguments read, so channel_not_found", async () => {
    const { body } = await raw(slack, "chat.postMessage", {
      method: "POST",
      headers: { ...bearer, "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ channel: CHANNEL, text: "hi" }),
    });
    expect(body).toEqual({ ok: false, error: "channel_not_found" });
    expect(problems()).toEqual(["JSON sent as a form: Slack reads no arguments from it"]);
  });

  it("JSON to a method that takes forms only: ignored, so the argument is missing", async () => {
    const { body } = await raw(slack, "users.info", {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ user: ADA }),
    });
    expect(body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] missing required field: user"] },
    });
    expect(problems()).toEqual([
      "a JSON body to a method that takes only forms: Slack ignores it",
      "no user, which the method requires",
    ]);
  });

  it("bodies Slack cannot read: invalid_json, json_not_object, invalid_post_type", async () => {
    const post = (contentType: string, body: string) =>
      raw(slack, "chat.postMessage", {
        method: "POST",
        headers: { ...bearer, "content-type": contentType },
        body,
      });
    const json = "application/json; charset=utf-8";
    expect((await post(json, "{nope")).body).toEqual({ ok: false, error: "invalid_json" });
    expect((await post(json, "[1]")).body).toEqual({ ok: false, error: "json_not_object" });
    expect((await post("text/plain", "hi")).body).toEqual({
      ok: false,
      error: "invalid_post_type",
    });
    expect(problems()).toHaveLength(3);
  });

  it("an unknown method: 404 unknown_method", async () => {
    const { status, body } = await raw(slack, "chat.postEphemeralish", {
      method: "POST",
      headers: bearer,
    });
    expect(status).toBe(404);
    expect(body).toMatchObject({ ok: false, error: "unknown_method" });
    expect(problems()).toEqual(["no such method"]);
  });

  it("a scope the token lacks: missing_scope; a custom name without customize is ignored", async () => {
    const narrow = await fake({ scopes: ["chat:write"] });
    const api = new SlackApi({ baseUrl: narrow.apiBase, token: APP.botToken });
    await expect(api.userInfo(ADA)).rejects.toMatchObject({ error: "missing_scope" });
    expect(narrow.calls.at(-1)!.response).toEqual({
      ok: false,
      error: "missing_scope",
      needed: "users:read",
      provided: "chat:write",
    });
    const posted = await api.postMessage({ channel: CHANNEL, text: "hi", username: "ada" });
    expect(narrow.messages(CHANNEL).find((message) => message.ts === posted.ts)).toMatchObject({
      user: APP.botUserId,
    });
    expect(narrow.violations.map((violation) => violation.problem)).toEqual([
      "the token lacks the scope users:read",
      "username or icon_url without the scope chat:write.customize: Slack ignores them",
    ]);
  });
});

describe("slack/manifest.yml", () => {
  it("grants what the client's methods need and subscribes to the channels' messages", () => {
    expect(readManifest()).toEqual({
      scopes: expect.arrayContaining(["chat:write", "chat:write.customize", "users:read"]),
      botEvents: ["message.channels", "message.groups"],
      botName: "edgechat",
    });
    // History scopes are what message.channels and message.groups require.
    expect(readManifest().scopes).toEqual(
      expect.arrayContaining(["channels:history", "groups:history"]),
    );
  });
});

describe("the fake's Events API", () => {
  let slack: FakeSlack;
  let api: SlackApi;
  beforeAll(async () => {
    slack = await fake();
    api = new SlackApi({ baseUrl: slack.apiBase, token: APP.botToken });
  });
  afterEach(async () => {
    await slack.settled();
    expect(slack.violations).toEqual([]);
  });

  it("signs as Slack's own documented example does", () => {
    // "Verifying requests from Slack": its example secret, timestamp and slash-command body.
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(signSlackRequest("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body)).toBe(
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });

  it("a person's post: a signed event_callback with Slack's envelope and message event", async () => {
    const { url, received } = await receiver();
    slack.setEventsUrl(url);
    const { ts, delivery } = await slack.userPosts(CHANNEL, ADA, "hello from Slack");
    expect(ts).toMatch(TS);
    expect(delivery).toMatchObject({ delivered: true, attempts: [{ retryNum: 0, status: 200 }] });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(signedBySlack(request!)).toBe(true);
    expect(request!.headers).toMatchObject({ "content-type": "application/json" });
    expect(request!.headers).not.toHaveProperty("x-slack-retry-num");
    const envelope = JSON.parse(request!.body);
    expect(envelope).toEqual({
      token: slack.verificationToken,
      team_id: APP.teamId,
      context_team_id: APP.teamId,
      context_enterprise_id: null,
      api_app_id: APP.appId,
      event: {
        type: "message",
        channel: CHANNEL,
        user: ADA,
        text: "hello from Slack",
        ts,
        event_ts: ts,
        channel_type: "channel",
        team: APP.teamId,
        client_msg_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
      type: "event_callback",
      event_id: expect.stringMatching(/^Ev[0-9A-Z]{10}$/),
      event_time: expect.any(Number),
      authorizations: [
        {
          enterprise_id: null,
          team_id: APP.teamId,
          user_id: APP.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: expect.stringMatching(/^4-/),
    });
  });

  it("a reply in a thread, its edit and its delete, as Slack sends them", async () => {
    const { url, received } = await receiver();
    slack.setEventsUrl(url);
    const parent = await slack.userPosts(CHANNEL, ADA, "question");
    const reply = await slack.userPosts(CHANNEL, ADA, "answer", { thread_ts: parent.ts });
    await slack.userEdits(CHANNEL, reply.ts, "better answer");
    await slack.userDeletes(CHANNEL, reply.ts);
    const [, posted, changed, deleted] = received.map(eventOf);
    expect(posted).toMatchObject({ thread_ts: parent.ts, parent_user_id: ADA, ts: reply.ts });
    expect(changed).toMatchObject({
      type: "message",
      subtype: "message_changed",
      hidden: true,
      channel: CHANNEL,
      ts: expect.stringMatching(TS),
      message: {
        text: "better answer",
        user: ADA,
        ts: reply.ts,
        thread_ts: parent.ts,
        edited: { user: ADA, ts: changed.ts },
      },
      previous_message: { text: "answer", ts: reply.ts },
    });
    expect(changed).not.toHaveProperty("user");
    expect(changed.ts).not.toBe(reply.ts);
    expect(deleted).toMatchObject({
      subtype: "message_deleted",
      hidden: true,
      deleted_ts: reply.ts,
      previous_message: { text: "better answer", user: ADA },
    });
    expect(new Set(received.map((r) => JSON.parse(r.body).event_id)).size).toBe(4);
    expect(slack.messages(CHANNEL).map((message) => message.ts)).not.toContain(reply.ts);
  });

  it("the bot's own posts, edits and deletes come back as events, as from Slack", async () => {
    const { url, received } = await receiver();
    slack.setEventsUrl(url);
    const plain = await api.postMessage({ channel: CHANNEL, text: "from the room" });
    const asAuthor = await api.postMessage({ channel: CHANNEL, text: "by ada", username: "ada" });
    await api.update({ ...plain, text: "edited in the room" });
    await api.delete(plain);
    await slack.settled();
    const events = received.map(eventOf).sort((a, b) => a.event_ts.localeCompare(b.event_ts));
    const bot = { bot_id: APP.botId, app_id: APP.appId, channel: CHANNEL };
    expect(events[0]).toMatchObject({ ...bot, ts: plain.ts, user: APP.botUserId });
    expect(events[0]).not.toHaveProperty("subtype");
    expect(events[1]).toMatchObject({ ...bot, ts: asAuthor.ts, subtype: "bot_message" });
    expect(events[1]).toMatchObject({ username: "ada" });
    expect(events[2]).toMatchObject({
      subtype: "message_changed",
      message: {
        bot_id: APP.botId,
        app_id: APP.appId,
        ts: plain.ts,
        edited: { user: APP.botUserId },
      },
      channel: CHANNEL,
    });
    expect(events[3]).toMatchObject({
      subtype: "message_deleted",
      deleted_ts: plain.ts,
      previous_message: { bot_id: APP.botId },
    });
  });

  it("echoBotEvents false: the bot's own actions send nothing", async () => {
    const { url, received } = await receiver();
    const quiet = await fake({ eventsUrl: url, echoBotEvents: false });
    const quietApi = new SlackApi({ baseUrl: quiet.apiBase, token: APP.botToken });
    await quietApi.postMessage({ channel: CHANNEL, text: "unheard" });
    await quiet.settled();
    expect(received).toEqual([]);
  });

  it("a private channel's messages are message.groups events, sent only if subscribed", async () => {
    const { url, received } = await receiver();
    slack.setEventsUrl(url);
    await slack.userPosts(PRIVATE, ADA, "psst");
    expect(eventOf(received[0]!)).toMatchObject({ channel: PRIVATE, channel_type: "group" });
    const publicOnly = await fake({ eventsUrl: url, botEvents: ["message.channels"] });
    expect(await publicOnly.userPosts(PRIVATE, ADA, "unseen")).toEqual({
      ts: expect.stringMatching(TS),
    });
    expect(received).toHaveLength(1);
  });

  it("errors then recovery: retries numbered, http_error, same event_id, fresh signatures", async () => {
    const { url, received } = await receiver((n) => ({ status: n < 2 ? 500 : 200 }));
    slack.setEventsUrl(url);
    const { delivery } = await slack.userPosts(CHANNEL, ADA, "try again");
    expect(delivery!.delivered).toBe(true);
    expect(delivery!.attempts.map((a) => [a.retryNum, a.status, a.failure])).toEqual([
      [0, 500, "http_error"],
      [1, 500, "http_error"],
      [2, 200, undefined],
    ]);
    expect(
      received.map((r) => [r.headers["x-slack-retry-num"], r.headers["x-slack-retry-reason"]]),
    ).toEqual([
      [undefined, undefined],
      ["1", "http_error"],
      ["2", "http_error"],
    ]);
    expect(new Set(received.map((r) => JSON.parse(r.body).event_id)).size).toBe(1);
    expect(received.every((r) => signedBySlack(r))).toBe(true);
  });

  it("an answer later than 3 s: Slack hangs up, retries with http_timeout", async () => {
    const { url, received } = await receiver((n) => ({ status: 200, delayMs: n === 0 ? 3500 : 0 }));
    slack.setEventsUrl(url);
    const { delivery } = await slack.userPosts(CHANNEL, ADA, "slow");
    expect(delivery!.attempts.map((a) => [a.status, a.failure])).toEqual([
      [undefined, "http_timeout"],
      [200, undefined],
    ]);
    expect(received[0]!.hungUp).toBe(true);
    expect(received[1]!.headers).toMatchObject({
      "x-slack-retry-num": "1",
      "x-slack-retry-reason": "http_timeout",
    });
  });

  it("nobody listening: three retries with connection_failed, then Slack gives up", async () => {
    const { url } = await receiver();
    receivers.pop()!.close();
    slack.setEventsUrl(url);
    const { delivery } = await slack.userPosts(CHANNEL, ADA, "anyone?");
    expect(delivery!.delivered).toBe(false);
    expect(delivery!.attempts.map((a) => a.headers["x-slack-retry-reason"] ?? "first")).toEqual([
      "first",
      "connection_failed",
      "connection_failed",
      "connection_failed",
    ]);
    expect(delivery!.attempts.every((a) => a.failure === "connection_failed")).toBe(true);
  });

  it("X-Slack-No-Retry: 1 stops the retries", async () => {
    const { url, received } = await receiver(() => ({
      status: 503,
      headers: { "x-slack-no-retry": "1" },
    }));
    slack.setEventsUrl(url);
    const { delivery } = await slack.userPosts(CHANNEL, ADA, "once");
    expect(delivery).toMatchObject({ delivered: false, attempts: [{ status: 503 }] });
    expect(received).toHaveLength(1);
  });

  it("redirects: two are followed, a third is too_many_redirects", async () => {
    const { url, received } = await receiver((n) =>
      n % 4 < 2 ? { status: 307, headers: { location: `/moved/${n}` } } : { status: 200 },
    );
    slack.setEventsUrl(url);
    const followed = await slack.sendEvent({ type: "message", channel: CHANNEL, text: "x" });
    expect(followed).toMatchObject({ delivered: true, attempts: [{ status: 200 }] });
    expect(received).toHaveLength(3);

    const { url: loop } = await receiver(() => ({ status: 302, headers: { location: "/again" } }));
    slack.setEventsUrl(loop);
    const lost = await slack.sendEvent({ type: "message" }, { retryDelaysMs: [] });
    expect(lost).toMatchObject({
      delivered: false,
      attempts: [{ status: 302, failure: "too_many_redirects" }],
    });
  });

  it("a stale timestamp or another secret, for the receiver's refusals", async () => {
    const { url, received } = await receiver();
    slack.setEventsUrl(url);
    const stale = Math.floor(Date.now() / 1000) - 301;
    await slack.sendEvent({ type: "message" }, { timestamp: stale });
    await slack.sendEvent({ type: "message" }, { signingSecret: "not-the-app-secret" });
    expect(received[0]!.headers["x-slack-request-timestamp"]).toBe(String(stale));
    expect(received[0]!.headers["x-slack-signature"]).toBe(
      signSlackRequest(APP.signingSecret, stale, received[0]!.body),
    );
    expect(signedBySlack(received[0]!)).toBe(false);
    expect(signedBySlack(received[1]!)).toBe(false);
    expect(signedBySlack(received[1]!, "not-the-app-secret")).toBe(true);
  });

  it("url_verification: the challenge back as text, JSON or form verifies; anything else not", async () => {
    const answers = [
      (challenge: string) => ({ status: 200, body: challenge }),
      (challenge: string) => ({ status: 200, body: JSON.stringify({ challenge }) }),
      (challenge: string) => ({ status: 200, body: `challenge=${challenge}` }),
      () => ({ status: 200, body: "ok" }),
      (challenge: string) => ({ status: 500, body: challenge }),
    ];
    const results = [];
    for (const reply of answers) {
      const { url, received } = await receiver((_n, request) =>
        reply(JSON.parse(request.body).challenge),
      );
      slack.setEventsUrl(url);
      results.push((await slack.verifyUrl()).verified);
      expect(signedBySlack(received[0]!)).toBe(true);
      expect(JSON.parse(received[0]!.body)).toEqual({
        token: slack.verificationToken,
        challenge: expect.any(String),
        type: "url_verification",
      });
    }
    expect(results).toEqual([true, true, true, false, false]);
  });
});
