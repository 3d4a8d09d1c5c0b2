/**
 * The Slack bridge's pure rules (docs/integrations.md, "Slack bridge"): what an Events API body
 * becomes (slack-events.ts), who a Slack author is in the room, what a change in Slack does to
 * the room and a room event does in Slack, and which events are echoes (slack-bridge.ts). Bodies
 * in Slack's documented shapes, tables of cases, and fast-check properties.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  backoffSeconds,
  commandOf,
  INBOUND_WAITS,
  isOwnEcho,
  MAX_AUTHOR_NAME,
  planInbound,
  planOutbound,
  SLACK_MAX_TRIES,
  slackActorId,
  slackAuthorName,
  tokenHint,
  type BridgedEvent,
  type InboundFacts,
  type MappedMessage,
  type OutboundFacts,
  type SlackIdentity,
} from "../../src/integrations/slack-bridge.ts";
import {
  readSlackRequest,
  SlackInbound,
  type SlackInbound as Inbound,
} from "../../src/integrations/slack-events.ts";
import { ClientId, Command, MessageText } from "../../src/protocol/index.ts";

const TEAM = "T0EDGE0001";
const CHANNEL = "C0GENERAL1";
const ANN = "U0ANN00001";
const BOT: SlackIdentity = { userId: "U0BOT00001", botId: "B0BOT00001", teamId: TEAM };

const envelope = (event: Record<string, unknown>) => ({
  token: "verification-token",
  team_id: TEAM,
  api_app_id: "A0APP00001",
  event,
  type: "event_callback",
  event_id: "Ev0ABCDEF12",
  event_time: 1_700_000_000,
  authorizations: [{ team_id: TEAM, user_id: BOT.userId, is_bot: true }],
  is_ext_shared_channel: false,
  event_context: "4-abc",
});

/** A person's message as Slack's Events API sends it (message.channels). */
const personPost = (extra: Record<string, unknown> = {}) => ({
  type: "message",
  channel: CHANNEL,
  user: ANN,
  text: "Ship it <https://ci.example/7|build 7> &amp; <@U0BEN00001>",
  ts: "1700000000.000100",
  event_ts: "1700000000.000100",
  client_msg_id: "4a1f0c1e-0000-0000-0000-000000000000",
  team: TEAM,
  channel_type: "channel",
  blocks: [{ type: "rich_text", block_id: "x", elements: [] }],
  ...extra,
});

const inboundOf = (body: unknown): Inbound => {
  const read = readSlackRequest(body);
  if (read.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(read)}`);
  return read.inbound;
};

describe("readSlackRequest", () => {
  it("answers url_verification with its challenge", () => {
    const body = {
      token: "t",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    };
    expect(readSlackRequest(body)).toEqual({ kind: "url_verification", challenge: body.challenge });
  });

  it("reads a person's post as our text, with its author", () => {
    expect(inboundOf(envelope(personPost()))).toEqual({
      eventId: "Ev0ABCDEF12",
      action: "post",
      channel: CHANNEL,
      ts: "1700000000.000100",
      text: "Ship it build 7 (https://ci.example/7) & @U0BEN00001",
      from: { team: TEAM, user: ANN },
    });
  });

  it("reads a thread reply's parent, and a thread's parent as a plain post", () => {
    const reply = inboundOf(
      envelope(personPost({ ts: "1700000001.000200", thread_ts: "1700000000.000100" })),
    );
    expect(reply.threadTs).toBe("1700000000.000100");
    const parent = inboundOf(
      envelope(personPost({ thread_ts: "1700000000.000100", reply_count: 2 })),
    );
    expect(parent.threadTs).toBeUndefined();
    const broadcast = inboundOf(
      envelope(
        personPost({
          subtype: "thread_broadcast",
          ts: "1700000002.000000",
          thread_ts: "1700000000.000100",
        }),
      ),
    );
    expect(broadcast).toMatchObject({ action: "post", threadTs: "1700000000.000100" });
  });

  it("reads another app's bot message with its shown name, its blocks first", () => {
    const read = inboundOf(
      envelope({
        type: "message",
        subtype: "bot_message",
        channel: CHANNEL,
        bot_id: "B0OTHER001",
        username: "CI",
        text: "fallback",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Build* passed" } }],
        ts: "1700000003.000000",
      }),
    );
    expect(read).toMatchObject({
      action: "post",
      text: "*Build* passed",
      from: { team: TEAM, botId: "B0OTHER001", name: "CI" },
    });
  });

  it("reads an edit (message_changed with edited) and a delete (message_deleted)", () => {
    const edit = inboundOf(
      envelope({
        type: "message",
        subtype: "message_changed",
        hidden: true,
        channel: CHANNEL,
        message: {
          type: "message",
          user: ANN,
          text: "new words",
          ts: "1700000000.000100",
          edited: { user: ANN, ts: "1700000009.000000" },
        },
        previous_message: {
          type: "message",
          user: ANN,
          text: "old words",
          ts: "1700000000.000100",
        },
        ts: "1700000009.000001",
        event_ts: "1700000009.000001",
      }),
    );
    expect(edit).toMatchObject({
      action: "edit",
      ts: "1700000000.000100",
      text: "new words",
      from: { user: ANN },
    });
    const deleted = inboundOf(
      envelope({
        type: "message",
        subtype: "message_deleted",
        hidden: true,
        channel: CHANNEL,
        deleted_ts: "1700000000.000100",
        previous_message: {
          type: "message",
          user: ANN,
          text: "old words",
          ts: "1700000000.000100",
        },
        ts: "1700000010.000000",
      }),
    );
    expect(deleted).toMatchObject({
      action: "delete",
      ts: "1700000000.000100",
      from: { team: TEAM, user: ANN },
    });
  });

  it.each([
    [
      "another event type",
      { type: "app_mention", channel: CHANNEL, user: ANN, text: "hi", ts: "1700000000.000100" },
    ],
    [
      "a join",
      personPost({ subtype: "channel_join", text: "<@U0ANN00001> has joined the channel" }),
    ],
    ["a topic change", personPost({ subtype: "channel_topic" })],
    ["a message without text", personPost({ text: "", blocks: [] })],
    [
      "an unfurl (no edited)",
      {
        type: "message",
        subtype: "message_changed",
        channel: CHANNEL,
        message: {
          user: ANN,
          text: "see https://x.example",
          ts: "1700000000.000100",
          attachments: [{ title: "X" }],
        },
        previous_message: { user: ANN, text: "see https://x.example", ts: "1700000000.000100" },
        ts: "1700000011.000000",
      },
    ],
    [
      "an edit that changes no text",
      {
        type: "message",
        subtype: "message_changed",
        channel: CHANNEL,
        message: {
          user: ANN,
          text: "same",
          ts: "1700000000.000100",
          edited: { user: ANN, ts: "1" },
        },
        previous_message: { user: ANN, text: "same", ts: "1700000000.000100" },
        ts: "1700000011.000000",
      },
    ],
  ])("ignores %s", (_, event) => {
    expect(readSlackRequest(envelope(event)).kind).toBe("ignored");
  });

  it.each([
    ["no type", { challenge: "x" }],
    ["url_verification without a challenge", { type: "url_verification" }],
    [
      "an event_callback without its event id",
      { type: "event_callback", team_id: TEAM, event: { type: "message" } },
    ],
    ["not an object", [1, 2]],
    ["null", null],
  ])("calls %s invalid", (_, body) => {
    expect(readSlackRequest(body).kind).toBe("invalid");
  });

  it("never throws, and every event it reads fits the queue's schema and our text's rules", () => {
    const slackish = fc.record(
      {
        type: fc.constantFrom("message", "app_mention"),
        subtype: fc.constantFrom(
          undefined,
          "bot_message",
          "message_changed",
          "message_deleted",
          "channel_join",
          "thread_broadcast",
        ),
        channel: fc.constantFrom(CHANNEL, "", 7),
        user: fc.oneof(fc.constant(ANN), fc.string()),
        bot_id: fc.string(),
        text: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null)),
        ts: fc.oneof(fc.constant("1700000000.000100"), fc.string()),
        thread_ts: fc.constantFrom("1700000000.000100", "1690000000.000000", "x"),
        deleted_ts: fc.constantFrom("1700000000.000100", 5),
        message: fc.anything(),
        previous_message: fc.anything(),
        blocks: fc.anything(),
        attachments: fc.anything(),
      },
      { requiredKeys: ["type"] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), slackish.map(envelope)), (body) => {
        const read = readSlackRequest(body);
        if (read.kind !== "event") return;
        expect(SlackInbound.safeParse(read.inbound).success).toBe(true);
        if (read.inbound.text !== undefined)
          expect(MessageText.safeParse(read.inbound.text).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("who a Slack author is in the room", () => {
  it("is svc_ and 32 hex, the same for the same team and user, another for anyone else", async () => {
    const ann = await slackActorId({ team: TEAM, user: ANN });
    expect(ann).toMatch(/^svc_[0-9a-f]{32}$/);
    expect(await slackActorId({ team: TEAM, user: ANN, name: "ignored" })).toBe(ann);
    expect(await slackActorId({ team: "T0OTHER001", user: ANN })).not.toBe(ann);
    expect(await slackActorId({ team: TEAM, botId: ANN })).toBe(ann); // an id is an id
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })), {
          minLength: 2,
          maxLength: 20,
          selector: ([t, u]) => `${t}:${u}`,
        }),
        async (pairs) => {
          const ids = await Promise.all(pairs.map(([team, user]) => slackActorId({ team, user })));
          // Team ids hold no colon in Slack; only those pairs must differ.
          const clean = pairs.filter(([team]) => !team.includes(":"));
          const cleanIds = clean.map((_, i) => ids[pairs.indexOf(clean[i]!)]);
          expect(new Set(cleanIds).size).toBe(clean.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reads as `Name (Slack)`, one line, at most 80 code points", () => {
    expect(slackAuthorName("Ann")).toBe("Ann (Slack)");
    expect(slackAuthorName("  Ann \n Lee ")).toBe("Ann Lee (Slack)");
    expect(slackAuthorName("")).toBe("someone (Slack)");
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (shown) => {
        const name = slackAuthorName(shown);
        expect([...name].length).toBeLessThanOrEqual(MAX_AUTHOR_NAME);
        expect(name.endsWith(" (Slack)")).toBe(true);
        expect(name).not.toMatch(/[\n\r\t]/);
      }),
    );
  });

  it("keys the bot's identity by a hint of the token, not the token", async () => {
    const hint = await tokenHint("xoxb-1-2-secret");
    expect(hint).toMatch(/^[0-9a-f]{16}$/);
    expect(await tokenHint("xoxb-1-2-other")).not.toBe(hint);
  });
});

const mapped = (row: Partial<MappedMessage> & Pick<MappedMessage, "seq">): MappedMessage => ({
  ts: null,
  threadTs: null,
  origin: "slack",
  authorId: "svc_" + "a".repeat(32),
  authorName: null,
  state: "posted",
  claimedUntil: null,
  ...row,
});

const LINKED_AT = 1_700_000_000_000;
const facts = (extra: Partial<InboundFacts> = {}): InboundFacts => ({
  linkedAt: LINKED_AT,
  seen: false,
  identity: BOT,
  own: undefined,
  parent: undefined,
  attempt: 1,
  ...extra,
});
const inbound = (extra: Partial<Inbound> = {}): Inbound => ({
  eventId: "Ev0000000001",
  action: "post",
  channel: CHANNEL,
  ts: "1700000100.000000",
  text: "hello",
  from: { team: TEAM, user: ANN },
  ...extra,
});

describe("planInbound: a change in Slack, in the room", () => {
  const parent = mapped({ seq: 7, ts: "1700000050.000000" });
  it.each<[string, Inbound, InboundFacts, unknown]>([
    ["a post", inbound(), facts(), { kind: "post", text: "hello" }],
    [
      "a reply",
      inbound({ threadTs: parent.ts! }),
      facts({ parent }),
      { kind: "post", text: "hello", replyTo: 7 },
    ],
    [
      "a reply to a deleted parent",
      inbound({ threadTs: parent.ts! }),
      facts({ parent: { ...parent, state: "deleted" } }),
      { kind: "post", text: "hello" },
    ],
    [
      "a reply to a parent from before the link",
      inbound({ threadTs: "1690000000.000000" }),
      facts(),
      { kind: "post", text: "hello" },
    ],
    [
      "a reply whose parent is on its way",
      inbound({ threadTs: "1700000060.000000" }),
      facts(),
      { kind: "wait", delaySeconds: 2, reason: "thread parent not mirrored yet" },
    ],
    [
      "a reply whose parent never came",
      inbound({ threadTs: "1700000060.000000" }),
      facts({ attempt: INBOUND_WAITS + 1 }),
      { kind: "post", text: "hello" },
    ],
    ["an event carried out already", inbound(), facts({ seen: true }), { kind: "skip" }],
    [
      "our bot's post (bot_id)",
      inbound({ from: { team: TEAM, botId: BOT.botId! } }),
      facts(),
      { kind: "skip" },
    ],
    [
      "our bot user's post",
      inbound({ from: { team: TEAM, user: BOT.userId } }),
      facts(),
      { kind: "skip" },
    ],
    [
      "a post the bridge made (ts in the map, from the room)",
      inbound(),
      facts({ own: mapped({ seq: 3, origin: "room", ts: "1700000100.000000" }) }),
      { kind: "skip" },
    ],
    [
      "a post mirrored already",
      inbound(),
      facts({ own: mapped({ seq: 3, ts: "1700000100.000000" }) }),
      { kind: "skip" },
    ],
    [
      "an edit",
      inbound({ action: "edit", text: "new" }),
      facts({ own: mapped({ seq: 9 }) }),
      { kind: "edit", messageId: 9, authorId: "svc_" + "a".repeat(32), text: "new" },
    ],
    [
      "a delete",
      inbound({ action: "delete", text: undefined }),
      facts({ own: mapped({ seq: 9 }) }),
      { kind: "delete", messageId: 9, authorId: "svc_" + "a".repeat(32) },
    ],
    [
      "a delete of a deleted message",
      inbound({ action: "delete" }),
      facts({ own: mapped({ seq: 9, state: "deleted" }) }),
      { kind: "skip" },
    ],
    [
      "our own message deleted in Slack",
      inbound({ action: "delete" }),
      facts({ own: mapped({ seq: 9, origin: "room" }) }),
      { kind: "skip" },
    ],
    [
      "an edit of a message from before the link",
      inbound({ action: "edit", ts: "1690000000.000000" }),
      facts(),
      { kind: "skip" },
    ],
    [
      "an edit whose post is on its way",
      inbound({ action: "edit" }),
      facts({ attempt: 3 }),
      { kind: "wait", delaySeconds: 8, reason: "message not mirrored yet" },
    ],
    [
      "an edit whose post never came",
      inbound({ action: "edit" }),
      facts({ attempt: INBOUND_WAITS + 1 }),
      { kind: "skip" },
    ],
  ])("%s", (_, change, known, expected) => {
    expect(planInbound(change, known)).toMatchObject(expected as object);
  });

  it("never carries out an event of the bridge's own bot, whatever the map says", () => {
    const row = fc.option(
      fc.record({
        seq: fc.nat(),
        ts: fc.option(fc.constant("1700000100.000000")),
        threadTs: fc.constant(null),
        origin: fc.constantFrom("slack" as const, "room" as const),
        authorId: fc.option(fc.constant("svc_x")),
        authorName: fc.constant(null),
        state: fc.constantFrom(
          "pending" as const,
          "posted" as const,
          "deleted" as const,
          "failed" as const,
        ),
        claimedUntil: fc.constant(null),
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        fc.constantFrom("post" as const, "edit" as const, "delete" as const),
        fc.constantFrom({ team: TEAM, botId: BOT.botId! }, { team: TEAM, user: BOT.userId }),
        row,
        row,
        fc.integer({ min: 1, max: 20 }),
        (action, from, own, parentRow, attempt) => {
          const plan = planInbound(
            inbound({ action, from, threadTs: "1700000050.000000" }),
            facts({ own, parent: parentRow, attempt }),
          );
          expect(plan.kind).toBe("skip");
        },
      ),
    );
  });

  it("knows its echoes by bot id or bot user, and nothing else by them", () => {
    expect(isOwnEcho({ team: TEAM, botId: BOT.botId! }, BOT)).toBe(true);
    expect(isOwnEcho({ team: TEAM, user: BOT.userId }, BOT)).toBe(true);
    expect(isOwnEcho({ team: TEAM, botId: "B0OTHER001", name: "CI" }, BOT)).toBe(false);
    expect(isOwnEcho({ team: TEAM, user: ANN }, BOT)).toBe(false);
    expect(isOwnEcho({ team: TEAM, botId: BOT.botId! }, undefined)).toBe(false);
  });

  it("gives each plan a command whose clientId is the event's, the same on every delivery", () => {
    const post = commandOf({ kind: "post", text: "hi", replyTo: 4 }, "Ev0123456789");
    expect(post).toEqual({ type: "post", clientId: "slack:Ev0123456789", text: "hi", replyTo: 4 });
    expect(commandOf({ kind: "delete", messageId: 4, authorId: "x" }, "Ev1")).toEqual({
      type: "delete",
      clientId: "slack:Ev1",
      messageId: 4,
    });
    fc.assert(
      fc.property(fc.stringMatching(/^Ev[0-9A-Z]{8,40}$/), (eventId) => {
        const command = commandOf(
          { kind: "edit", messageId: 2, authorId: "x", text: "t" },
          eventId,
        );
        expect(Command.safeParse(command).success).toBe(true);
        expect(ClientId.safeParse(command.clientId).success).toBe(true);
        expect(
          commandOf({ kind: "edit", messageId: 2, authorId: "x", text: "t" }, eventId),
        ).toEqual(command);
      }),
    );
  });
});

const ADA = { id: "u-ada", name: "ada" };
let seq = 100;
const event = <T extends BridgedEvent["type"]>(
  type: T,
  data: Extract<BridgedEvent, { type: T }>["data"],
) =>
  ({ seq: ++seq, id: `e${seq}`, type, at: 1, actor: ADA, data }) as Extract<
    BridgedEvent,
    { type: T }
  >;
const out = (extra: Partial<OutboundFacts> = {}): OutboundFacts => ({
  channel: CHANNEL,
  linkedSeq: 10,
  row: undefined,
  parent: undefined,
  attempt: 1,
  now: 5_000,
  ...extra,
});
const roomRow = (extra: Partial<MappedMessage> = {}) =>
  mapped({
    seq: 50,
    origin: "room",
    authorId: ADA.id,
    authorName: "ada",
    state: "pending",
    ...extra,
  });

describe("planOutbound: a room event, in Slack", () => {
  it("posts as the author, escaped for Slack", () => {
    const posted = event("message.posted", { text: "a <b> & c" });
    expect(planOutbound(posted, out({ row: roomRow({ seq: posted.seq }) }))).toEqual({
      kind: "call",
      messageId: posted.seq,
      call: {
        method: "chat.postMessage",
        args: { channel: CHANNEL, text: "a &lt;b&gt; &amp; c", username: "ada" },
      },
    });
  });

  it.each<[string, BridgedEvent, Partial<OutboundFacts>, unknown]>([
    [
      "a reply under its parent's thread",
      event("message.posted", { text: "r", replyTo: 40 }),
      {
        row: roomRow(),
        parent: roomRow({ seq: 40, ts: "1.000001", threadTs: "0.000009", state: "posted" }),
      },
      { kind: "call", call: { args: { thread_ts: "0.000009" } } },
    ],
    [
      "a reply to a parent",
      event("message.posted", { text: "r", replyTo: 40 }),
      { row: roomRow(), parent: roomRow({ seq: 40, ts: "1.000001", state: "posted" }) },
      { kind: "call", call: { args: { thread_ts: "1.000001" } } },
    ],
    [
      "a reply whose parent is not in Slack yet",
      event("message.posted", { text: "r", replyTo: 40 }),
      { row: roomRow(), parent: roomRow({ seq: 40 }) },
      { kind: "wait" },
    ],
    [
      "a reply whose parent never reached Slack",
      event("message.posted", { text: "r", replyTo: 40 }),
      { row: roomRow(), parent: roomRow({ seq: 40, state: "failed" }) },
      { kind: "call", call: { args: { text: "r" } } },
    ],
    [
      "a post being posted by another delivery",
      event("message.posted", { text: "p" }),
      { row: roomRow({ claimedUntil: 9_000 }) },
      { kind: "wait" },
    ],
    [
      "a post whose claim ran out",
      event("message.posted", { text: "p" }),
      { row: roomRow({ claimedUntil: 4_000 }) },
      { kind: "call" },
    ],
    [
      "a post already in Slack",
      event("message.posted", { text: "p" }),
      { row: roomRow({ ts: "1.000002", state: "posted" }) },
      { kind: "skip" },
    ],
    ["a post from before the link", event("message.posted", { text: "p" }), {}, { kind: "skip" }],
    [
      "a redacted post",
      event("message.posted", { text: "" }),
      { row: roomRow() },
      { kind: "skip" },
    ],
    [
      "an edit",
      event("message.edited", { messageId: 50, text: "x > y" }),
      { row: roomRow({ ts: "1.000003", state: "posted" }) },
      {
        kind: "call",
        messageId: 50,
        call: {
          method: "chat.update",
          args: { channel: CHANNEL, ts: "1.000003", text: "x &gt; y" },
        },
      },
    ],
    [
      "an edit before its post has a ts",
      event("message.edited", { messageId: 50, text: "e" }),
      { row: roomRow() },
      { kind: "wait" },
    ],
    [
      "an edit whose post never got one",
      event("message.edited", { messageId: 50, text: "e" }),
      { row: roomRow(), attempt: SLACK_MAX_TRIES },
      { kind: "skip" },
    ],
    [
      "an edit of a message from before the link",
      event("message.edited", { messageId: 5, text: "e" }),
      {},
      { kind: "skip" },
    ],
    [
      "an edit whose post is not in the map yet",
      event("message.edited", { messageId: 60, text: "e" }),
      {},
      { kind: "wait" },
    ],
    [
      "a delete",
      event("message.deleted", { messageId: 50 }),
      { row: roomRow({ ts: "1.000003", state: "posted" }) },
      { kind: "call", call: { method: "chat.delete", args: { channel: CHANNEL, ts: "1.000003" } } },
    ],
    [
      "a redaction",
      event("message.redacted", { messageId: 50 }),
      { row: roomRow({ ts: "1.000003", state: "posted" }) },
      { kind: "call", call: { method: "chat.delete" } },
    ],
    [
      "a delete of a Slack person's message",
      event("message.deleted", { messageId: 50 }),
      { row: mapped({ seq: 50, ts: "1.000004" }) },
      { kind: "skip" },
    ],
    [
      "a delete of a deleted copy",
      event("message.deleted", { messageId: 50 }),
      { row: roomRow({ ts: "1.000003", state: "deleted" }) },
      { kind: "skip" },
    ],
    [
      "a delete of a post Slack refused",
      event("message.deleted", { messageId: 50 }),
      { row: roomRow({ state: "failed" }) },
      { kind: "skip" },
    ],
    [
      "a restore, under its author and in its thread",
      {
        ...event("message.restored", { messageId: 50, text: "back" }),
        actor: { id: "u-mod", name: "mod" },
      },
      { row: roomRow({ ts: "1.000003", threadTs: "0.000001", state: "deleted" }) },
      {
        kind: "call",
        call: {
          method: "chat.postMessage",
          args: { text: "back", username: "ada", thread_ts: "0.000001" },
        },
      },
    ],
    [
      "a restore of a message still in Slack",
      event("message.restored", { messageId: 50, text: "back" }),
      { row: roomRow({ ts: "1.000003", state: "posted" }) },
      { kind: "skip" },
    ],
  ])("%s", (_, roomEvent, known, expected) => {
    expect(planOutbound(roomEvent, out(known))).toMatchObject(expected as object);
  });

  it("sends every text escaped, to the linked channel only", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1 }),
        fc.constantFrom("message.posted", "message.edited"),
        (text, type) => {
          const roomEvent =
            type === "message.posted"
              ? event("message.posted", { text })
              : event("message.edited", { messageId: 50, text });
          const row =
            type === "message.posted"
              ? roomRow({ seq: roomEvent.seq })
              : roomRow({ ts: "1.000005", state: "posted" });
          const plan = planOutbound(roomEvent, out({ row }));
          if (plan.kind !== "call" || plan.call.method === "chat.delete")
            throw new Error("expected a call with text");
          expect(plan.call.args.channel).toBe(CHANNEL);
          expect(plan.call.args.text).not.toMatch(/[<>]/);
          expect(plan.call.args.text.replace(/&(amp|lt|gt);/g, "")).not.toContain("&");
        },
      ),
    );
  });
});

describe("backoffSeconds", () => {
  it("doubles from 2 s up to 5 minutes", () => {
    expect([1, 2, 3, 8, 9, 20].map(backoffSeconds)).toEqual([2, 4, 8, 256, 300, 300]);
  });
});
