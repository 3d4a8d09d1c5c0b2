import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { outcomeOf, SlackApi, SlackApiError } from "../../src/integrations/slack-api.ts";
import { startFakeSlack, type FakeSlack } from "../support/fake-slack.ts";

const APP = {
  botToken: "xoxb-1111-2222-edgechatTESTtoken",
  signingSecret: "slack-api-test-signing-secret",
  teamId: "T0EDGE0001",
  appId: "A0EDGE0001",
  botUserId: "U0EDGEBOT1",
  botId: "B0EDGEBOT1",
};
const CHANNEL = "C0GENERAL1";

let slack: FakeSlack;
let api: SlackApi;

beforeAll(async () => {
  slack = await startFakeSlack({
    ...APP,
    channels: [CHANNEL],
    channelsWithoutBot: ["C0ELSEWHER"],
    users: {
      U0ADA00001: { name: "ada", displayName: "Ada L." },
      U0GRACE001: { name: "grace", displayName: "", realName: "Grace Hopper" },
    },
  });
  api = new SlackApi({ baseUrl: slack.apiBase, token: APP.botToken });
});
afterAll(() => slack.close());
afterEach(() => {
  // Every test's requests are as Slack documents them, unless it says otherwise and empties this.
  expect(slack.violations).toEqual([]);
});

/** The error a call throws, to look at its fields. */
async function failureOf(call: Promise<unknown>): Promise<SlackApiError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SlackApiError);
  return error as SlackApiError;
}

const lastCall = () => slack.calls.at(-1)!;

describe("SlackApi against the fake Slack: successes", () => {
  it("postMessage: POST, bearer token, JSON with charset; the channel and Slack's ts", async () => {
    const posted = await api.postMessage({ channel: CHANNEL, text: "build *green*" });
    expect(posted).toEqual({ channel: CHANNEL, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    const call = lastCall();
    expect(call).toMatchObject({ method: "chat.postMessage", httpMethod: "POST", status: 200 });
    expect(call.headers.authorization).toBe(`Bearer ${APP.botToken}`);
    expect(call.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(call.body)).toEqual({ channel: CHANNEL, text: "build *green*" });
    expect(slack.messages(CHANNEL).at(-1)).toMatchObject({
      type: "message",
      text: "build *green*",
      ts: posted.ts,
      user: APP.botUserId,
      bot_id: APP.botId,
      app_id: APP.appId,
      team: APP.teamId,
    });
    expect(slack.messages(CHANNEL).at(-1)).not.toHaveProperty("subtype");
  });

  it("postMessage as a room's author, in a thread, with metadata and no unfurling", async () => {
    const parent = await api.postMessage({ channel: CHANNEL, text: "deploy?" });
    const reply = await api.postMessage({
      channel: CHANNEL,
      text: "shipped",
      thread_ts: parent.ts,
      username: "ada (edgechat)",
      icon_url: "https://chat.example/avatars/ada.png",
      unfurl_links: false,
      metadata: { event_type: "edgechat_message", event_payload: { room: "ops", seq: 42 } },
    });
    expect(JSON.parse(lastCall().body)).toMatchObject({
      unfurl_links: false,
      thread_ts: parent.ts,
    });
    const messages = slack.messages(CHANNEL);
    expect(messages.find((message) => message.ts === reply.ts)).toMatchObject({
      subtype: "bot_message",
      username: "ada (edgechat)",
      icons: { image_48: "https://chat.example/avatars/ada.png" },
      bot_id: APP.botId,
      thread_ts: parent.ts,
      parent_user_id: APP.botUserId,
      metadata: { event_type: "edgechat_message", event_payload: { room: "ops", seq: 42 } },
    });
    expect(messages.find((message) => message.ts === parent.ts)).toMatchObject({
      reply_count: 1,
      latest_reply: reply.ts,
    });
  });

  it("update and delete of the bot's own message", async () => {
    const posted = await api.postMessage({ channel: CHANNEL, text: "typo" });
    expect(await api.update({ ...posted, text: "fixed" })).toEqual(posted);
    expect(slack.messages(CHANNEL).find((message) => message.ts === posted.ts)).toMatchObject({
      text: "fixed",
      edited: { user: APP.botUserId, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) },
    });
    expect(await api.delete(posted)).toEqual(posted);
    expect(slack.messages(CHANNEL).map((message) => message.ts)).not.toContain(posted.ts);
  });

  it("userInfo: a form body; display name, else real name; the bot is a bot", async () => {
    expect(await api.userInfo("U0ADA00001")).toEqual({
      id: "U0ADA00001",
      name: "ada",
      displayName: "Ada L.",
      isBot: false,
    });
    expect(lastCall().headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(lastCall().body).toBe("user=U0ADA00001");
    expect(await api.userInfo("U0GRACE001")).toMatchObject({ displayName: "Grace Hopper" });
    expect(await api.userInfo(APP.botUserId)).toEqual({
      id: APP.botUserId,
      name: "edgechat",
      displayName: "edgechat",
      isBot: true,
    });
  });

  it("authTest: the bot's user, bot and team ids", async () => {
    expect(await api.authTest()).toEqual({
      userId: APP.botUserId,
      botId: APP.botId,
      teamId: APP.teamId,
    });
  });
});

describe("SlackApi against the fake Slack: failures", () => {
  it("429: ratelimited, retriable, with Retry-After's seconds", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfter: 7 });
    const error = await failureOf(api.postMessage({ channel: CHANNEL, text: "hi" }));
    expect(error).toMatchObject({
      method: "chat.postMessage",
      error: "ratelimited",
      retriable: true,
      retryAfterSeconds: 7,
      status: 429,
    });
    // Counted: the next call goes through.
    await expect(api.postMessage({ channel: CHANNEL, text: "hi" })).resolves.toBeDefined();
  });

  it("5xx: http_<status>, retriable, as many times as asked", async () => {
    slack.failNext("chat.update", { status: 503, times: 2 });
    const posted = await api.postMessage({ channel: CHANNEL, text: "v1" });
    for (let i = 0; i < 2; i += 1) {
      const error = await failureOf(api.update({ ...posted, text: "v2" }));
      expect(error).toMatchObject({ error: "http_503", retriable: true, status: 503 });
      expect(error.retryAfterSeconds).toBeUndefined();
    }
    await expect(api.update({ ...posted, text: "v2" })).resolves.toEqual(posted);
  });

  it("ok:false codes of Slack's trouble are retriable", async () => {
    for (const code of [
      "internal_error",
      "fatal_error",
      "service_unavailable",
      "request_timeout",
    ]) {
      slack.failNext("auth.test", { okFalse: code });
      const error = await failureOf(api.authTest());
      expect(error).toMatchObject({ error: code, retriable: true, status: 200 });
    }
  });

  it("ok:false codes of the request's own are permanent, as the fake's rules give them", async () => {
    const mine = await api.postMessage({ channel: CHANNEL, text: "mine" });
    const person = await slack.userPosts(CHANNEL, "U0ADA00001", "not the bot's");
    const refusals: [Promise<unknown>, string][] = [
      [api.postMessage({ channel: "C0NOSUCH01", text: "x" }), "channel_not_found"],
      [api.postMessage({ channel: "C0ELSEWHER", text: "x" }), "not_in_channel"],
      [api.postMessage({ channel: CHANNEL, text: "" }), "no_text"],
      [api.postMessage({ channel: CHANNEL, text: "x".repeat(40_001) }), "msg_too_long"],
      [api.update({ ...mine, text: "x".repeat(40_001) }), "msg_too_long"],
      [api.update({ channel: CHANNEL, ts: "1.000001", text: "x" }), "message_not_found"],
      [api.update({ channel: CHANNEL, ts: person.ts, text: "x" }), "cant_update_message"],
      [api.delete({ channel: CHANNEL, ts: person.ts }), "cant_delete_message"],
      [api.userInfo("U0NOBODY01"), "user_not_found"],
    ];
    for (const [call, code] of refusals)
      expect(await failureOf(call)).toMatchObject({ error: code, retriable: false, status: 200 });
    await expect(api.postMessage({ channel: CHANNEL, text: "x".repeat(40_000) })).resolves.toEqual(
      expect.objectContaining({ channel: CHANNEL }),
    );
  });

  it("a wrong token: invalid_auth, permanent, and the token is nowhere in the error", async () => {
    const wrong = "xoxb-9999-8888-notTheRightOne";
    const error = await failureOf(
      new SlackApi({ baseUrl: slack.apiBase, token: wrong }).postMessage({
        channel: CHANNEL,
        text: "x",
      }),
    );
    expect(error).toMatchObject({ error: "invalid_auth", retriable: false });
    const shown = [error.message, String(error), JSON.stringify(error), error.stack ?? ""].join();
    expect(shown).not.toContain(wrong);
    expect(slack.violations).toEqual([
      { method: "chat.postMessage", problem: "a token the workspace does not know" },
    ]);
    slack.violations.length = 0;
  });

  it("no token: not_authed", async () => {
    const error = await failureOf(new SlackApi({ baseUrl: slack.apiBase, token: "" }).authTest());
    expect(error).toMatchObject({ error: "not_authed", retriable: false });
    expect(slack.violations.map((violation) => violation.problem)).toEqual([
      "no token: send Authorization: Bearer",
    ]);
    slack.violations.length = 0;
  });

  it("an answer later than timeoutMs: timeout, retriable (Slack may still have posted)", async () => {
    slack.failNext("chat.postMessage", { delayMs: 600 });
    const impatient = new SlackApi({ baseUrl: slack.apiBase, token: APP.botToken, timeoutMs: 100 });
    const error = await failureOf(impatient.postMessage({ channel: CHANNEL, text: "late" }));
    expect(error).toMatchObject({ error: "timeout", retriable: true });
    expect(error.status).toBeUndefined();
    await expect.poll(() => slack.messages(CHANNEL).at(-1)?.text, { timeout: 2000 }).toBe("late");
  });

  it("nothing listening: network, retriable", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const nowhere = new SlackApi({
      baseUrl: `http://127.0.0.1:${closedPort}/api`,
      token: "xoxb-x",
    });
    const error = await failureOf(nowhere.authTest());
    expect(error).toMatchObject({ method: "auth.test", error: "network", retriable: true });
  });
});

describe("outcomeOf: answers the fake does not give", () => {
  const answer =
    (status: number, payload: unknown, retryAfter: string | null = null) =>
    () =>
      outcomeOf("chat.postMessage", { status, payload, retryAfter });

  it("a 200 that is not Slack's JSON is invalid_response, permanent", () => {
    expect(answer(200, undefined)).toThrowError(
      expect.objectContaining({ error: "invalid_response", retriable: false }),
    );
    expect(answer(200, { ok: "yes" })).toThrowError(
      expect.objectContaining({ error: "invalid_response" }),
    );
  });

  it("a 4xx carries Slack's code when it has one (unknown_method is a 404)", () => {
    expect(answer(404, { ok: false, error: "unknown_method" })).toThrowError(
      expect.objectContaining({ error: "unknown_method", retriable: false, status: 404 }),
    );
    expect(answer(403, undefined)).toThrowError(
      expect.objectContaining({ error: "http_403", retriable: false }),
    );
  });

  it("a 503 with Retry-After keeps the seconds; a 429 without a body is ratelimited", () => {
    expect(answer(503, undefined, "30")).toThrowError(
      expect.objectContaining({ error: "http_503", retriable: true, retryAfterSeconds: 30 }),
    );
    expect(answer(429, undefined, "soon")).toThrowError(
      expect.objectContaining({
        error: "ratelimited",
        retriable: true,
        retryAfterSeconds: undefined,
      }),
    );
  });

  it("ok:true comes back whole", () => {
    expect(answer(200, { ok: true, channel: "C1", ts: "1.000001", warning: "x" })()).toEqual({
      ok: true,
      channel: "C1",
      ts: "1.000001",
      warning: "x",
    });
  });
});
