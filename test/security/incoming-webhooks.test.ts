/**
 * Fuzzed bodies against an incoming webhook (docs/integrations.md), on the real worker: Slack-
 * shaped messages with hostile fields, any JSON, raw strings, forms and odd content types, deep
 * nesting and bodies around 64 KiB. The oracle is the contract's: 200 `ok` and exactly one new
 * message, by the hook's bot, whose text is valid (1 to 4000 code points, well-formed, not only
 * white space); or a 4xx with the contract's error body and no new message. Never a 5xx, never
 * `internal`, never a message without its 200, never two.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import type { IssuedIncomingHook, RoomEvent } from "../../src/protocol/index.ts";
import { junkString, nested, weirdValue } from "./arbitraries.ts";
import { call, SECURITY_VARS, startServer, type TestServer } from "./helpers.ts";

let server: TestServer;
let owner: { token: string };
let room: string;
let hook: IssuedIncomingHook;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  const api = new EdgechatApi(server.url);
  const session = await api.signInGuest("owner");
  owner = session;
  room = `fuzz-${crypto.randomUUID().slice(0, 8)}`;
  await api.withToken(session.token).createRoom({ name: room });
  const made = await call(server.url, "POST", `/api/rooms/${room}/incoming-webhooks`, {
    token: session.token,
    body: { name: "fuzz" },
  });
  hook = made.json as IssuedIncomingHook;
});
afterAll(async () => server?.dispose());

const textish = fc.oneof(junkString, weirdValue, fc.string({ maxLength: 200 }));
const block = fc.oneof(
  fc.record({
    type: fc.constantFrom("section", "header", "context", "divider", "rich_text", "image", "nope"),
    text: fc.oneof(
      fc.record({ type: fc.constantFrom("mrkdwn", "plain_text"), text: textish }),
      weirdValue,
    ),
  }),
  fc.record({
    type: fc.constant("context"),
    elements: fc.array(
      fc.oneof(fc.record({ type: fc.constant("mrkdwn"), text: textish }), weirdValue),
      { maxLength: 4 },
    ),
  }),
  fc.record({
    type: fc.constant("rich_text"),
    elements: fc.array(
      fc.record({
        type: fc.constantFrom("rich_text_section", "rich_text_list", "rich_text_quote"),
        elements: fc.array(
          fc.record({
            type: fc.constantFrom("text", "link", "user", "emoji", "broadcast"),
            text: textish,
            url: textish,
            user_id: textish,
            name: textish,
            range: textish,
          }),
          { maxLength: 4 },
        ),
      }),
      { maxLength: 3 },
    ),
  }),
  weirdValue,
);
const slackShaped = fc.record(
  {
    text: textish,
    username: textish,
    icon_url: textish,
    mrkdwn: weirdValue,
    blocks: fc.oneof(fc.array(block, { maxLength: 5 }), weirdValue),
    attachments: fc.oneof(
      fc.array(
        fc.record(
          {
            fallback: textish,
            pretext: textish,
            title: textish,
            title_link: textish,
            text: textish,
            fields: fc.oneof(
              fc.array(fc.record({ title: textish, value: textish }), { maxLength: 3 }),
              weirdValue,
            ),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      weirdValue,
    ),
    __proto__: weirdValue,
  },
  { requiredKeys: [] },
);

type Sent = { body: string; contentType: string };
const sent: fc.Arbitrary<Sent> = fc.oneof(
  slackShaped.map((value) => ({ body: JSON.stringify(value), contentType: "application/json" })),
  slackShaped.map((value) => ({
    body: new URLSearchParams({ payload: JSON.stringify(value) }).toString(),
    contentType: "application/x-www-form-urlencoded",
  })),
  fc.jsonValue().map((value) => ({
    body: JSON.stringify(value),
    contentType: "application/json; charset=utf-8",
  })),
  fc.record({
    body: fc.string({ maxLength: 300 }),
    contentType: fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "",
      "multipart/form-data; boundary=x",
    ),
  }),
  fc
    .integer({ min: 1, max: 3000 })
    .map((depth) => ({ body: nested(depth, true), contentType: "application/json" })),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => ({
    body: JSON.stringify({ text: "y".repeat(n) }),
    contentType: "application/json",
  })),
);

const codePoints = (s: string) => [...s].length;

it("answers every body with 200 and one valid message, or a contract error and none", async () => {
  const api = new EdgechatApi(server.url, owner.token);
  let messages = 0;
  await fc.assert(
    fc.asyncProperty(sent, async ({ body, contentType }) => {
      const answer = await call(server.url, "POST", new URL(hook.url).pathname, {
        body,
        headers: contentType === "" ? {} : { "content-type": contentType },
      });
      expect(answer.status, answer.text).toBeLessThan(500);
      const page = await api.events(room, 0, 1000);
      const posted = page.events.filter(
        (e): e is Extract<RoomEvent, { type: "message.posted" }> => e.type === "message.posted",
      );
      if (answer.status === 200) {
        expect(answer.text).toBe("ok");
        expect(posted).toHaveLength(messages + 1);
        const message = posted.at(-1)!;
        expect(message.actor.id).toBe(hook.hook.botId);
        const text = message.data.text;
        expect(text.isWellFormed()).toBe(true);
        expect(codePoints(text)).toBeGreaterThanOrEqual(1);
        expect(codePoints(text)).toBeLessThanOrEqual(4000);
        expect(text.trim()).not.toBe("");
        messages += 1;
      } else {
        expect([400, 413]).toContain(answer.status);
        const error = answer.json as { error: { code: string; message: string } };
        expect(error.error.code).toBe(answer.status === 413 ? "too_large" : "bad_request");
        expect(error.error.message).not.toMatch(/at .*\.(ts|js):\d+/);
        expect(posted).toHaveLength(messages);
      }
    }),
    { numRuns: 300 },
  );
  expect(messages).toBeGreaterThan(10);
});
