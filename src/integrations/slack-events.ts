/**
 * What the Slack bridge reads of an Events API request (docs/integrations.md, "Slack bridge"):
 * the body after its signature was checked, turned into a small `SlackInbound` (one person's
 * post, edit or delete in a channel, its text already ours) that fits on the queue, or the reason
 * it is not mirrored. Pure: no I/O, zod and slack-format.ts only.
 */
import * as z from "zod";
import { toMessageText } from "./slack-format.ts";

/** A message's id in its channel: `<unix seconds>.<6 digits>`. */
export const SlackTs = z.string().regex(/^\d{1,12}\.\d{6}$/, "a Slack ts is seconds.micros");

/** Who wrote a Slack message: a person (`user`), or another app's bot (`botId`, its name). */
export const SlackAuthor = z.object({
  team: z.string().min(1).max(32),
  user: z.string().min(1).max(32).optional(),
  botId: z.string().min(1).max(32).optional(),
  /** A bot message's shown name (`username`, else its app's): bots are not looked up. */
  name: z.string().max(200).optional(),
});
export type SlackAuthor = z.infer<typeof SlackAuthor>;

/**
 * One change in a Slack channel, as the bridge carries it on the queue: `post` (a new message,
 * a reply when `threadTs` names another message), `edit` (the message `ts` has `text` now) or
 * `delete` (the message `ts` is gone). `text` is already our message text.
 */
export const SlackInbound = z.object({
  eventId: z.string().min(1).max(64),
  action: z.enum(["post", "edit", "delete"]),
  channel: z.string().min(1).max(32),
  ts: SlackTs,
  threadTs: SlackTs.optional(),
  text: z.string().optional(),
  from: SlackAuthor,
});
export type SlackInbound = z.infer<typeof SlackInbound>;

export type SlackRequest =
  | { kind: "url_verification"; challenge: string }
  | { kind: "event"; inbound: SlackInbound }
  /** A valid request the bridge does not mirror: acknowledged, and dropped. */
  | { kind: "ignored"; reason: string }
  /** A body that is not what Slack sends: a 400. */
  | { kind: "invalid"; reason: string };

const Text = z.string().nullish();
const Blocks = z.array(z.unknown()).nullish();

/** A message as events carry it (the event itself, or an edit's `message`/`previous_message`). */
const MessageFields = z.looseObject({
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  username: z.string().optional(),
  bot_profile: z.looseObject({ name: z.string().optional() }).nullish(),
  team: z.string().optional(),
  text: Text,
  blocks: Blocks,
  attachments: Blocks,
  ts: SlackTs,
  thread_ts: SlackTs.optional(),
  edited: z.looseObject({}).optional(),
});
type MessageFields = z.infer<typeof MessageFields>;

const MessageEvent = z.looseObject({
  type: z.literal("message"),
  subtype: z.string().optional(),
  channel: z.string().min(1).max(32),
  message: MessageFields.optional(),
  previous_message: MessageFields.partial({ ts: true }).optional(),
  deleted_ts: SlackTs.optional(),
});

const Envelope = z.looseObject({
  type: z.literal("event_callback"),
  team_id: z.string().min(1).max(32),
  event_id: z.string().min(1).max(64),
  event: z.looseObject({ type: z.string() }),
});

const UrlVerification = z.looseObject({
  type: z.literal("url_verification"),
  challenge: z.string().min(1).max(1000),
});

/**
 * The subtypes of a new message that are mirrored as posts: a person's (none), a thread reply
 * also sent to the channel, a `/me` line, a message with a file (its text), another app's bot.
 */
const POSTED_SUBTYPES: ReadonlySet<string | undefined> = new Set([
  undefined,
  "thread_broadcast",
  "me_message",
  "file_share",
  "bot_message",
]);

/** The body of a signed request from Slack: what to do with it. */
export function readSlackRequest(body: unknown): SlackRequest {
  const type = (body as { type?: unknown } | null)?.type;
  if (type === "url_verification") {
    const parsed = UrlVerification.safeParse(body);
    return parsed.success
      ? { kind: "url_verification", challenge: parsed.data.challenge }
      : { kind: "invalid", reason: "url_verification without a challenge" };
  }
  if (type !== "event_callback")
    return typeof type === "string"
      ? { kind: "ignored", reason: `a request of type ${type}` }
      : { kind: "invalid", reason: "the body is not a Slack request (no type)" };
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) return { kind: "invalid", reason: "an event_callback without its fields" };
  const { event, team_id: team, event_id: eventId } = envelope.data;
  if (event.type !== "message") return { kind: "ignored", reason: `a ${event.type} event` };
  const message = MessageEvent.safeParse(event);
  if (!message.success) return { kind: "ignored", reason: "a message event we cannot read" };
  return inboundOf(eventId, team, message.data, event);
}

type Read = { kind: "event"; inbound: SlackInbound } | { kind: "ignored"; reason: string };

function inboundOf(
  eventId: string,
  team: string,
  event: z.infer<typeof MessageEvent>,
  raw: Record<string, unknown>,
): Read {
  const base = { eventId, channel: event.channel };
  switch (event.subtype) {
    case "message_changed":
      return editOf(base, team, event);
    case "message_deleted": {
      if (event.deleted_ts === undefined)
        return { kind: "ignored", reason: "a delete without deleted_ts" };
      const previous = event.previous_message;
      const from = previous ? authorOf(previous, team) : { team };
      return { kind: "event", inbound: { ...base, action: "delete", ts: event.deleted_ts, from } };
    }
  }
  if (!POSTED_SUBTYPES.has(event.subtype))
    return { kind: "ignored", reason: `a message of subtype ${event.subtype}` };
  const posted = MessageFields.safeParse(raw);
  if (!posted.success) return { kind: "ignored", reason: "a message without its ts" };
  const text = textOf(posted.data);
  if (text === undefined) return { kind: "ignored", reason: "a message without text" };
  const { ts, thread_ts: threadTs } = posted.data;
  return {
    kind: "event",
    inbound: {
      ...base,
      action: "post",
      ts,
      ...(threadTs !== undefined && threadTs !== ts && { threadTs }),
      text,
      from: authorOf(posted.data, team),
    },
  };
}

/**
 * An edit: only one a person made (`edited` is set). Slack also sends `message_changed` when a
 * link unfurls or a thread's reply count moves, with the text unchanged: those are not edits.
 */
function editOf(
  base: { eventId: string; channel: string },
  team: string,
  event: z.infer<typeof MessageEvent>,
): Read {
  const message = event.message;
  if (message === undefined) return { kind: "ignored", reason: "an edit without its message" };
  if (message.edited === undefined || message.subtype === "tombstone")
    return { kind: "ignored", reason: "a change that is not an edit (unfurl, thread, tombstone)" };
  const text = textOf(message);
  if (text === undefined) return { kind: "ignored", reason: "an edit that leaves no text" };
  const before = event.previous_message && textOf({ ...event.previous_message, ts: message.ts });
  if (before === text) return { kind: "ignored", reason: "an edit that changes no text" };
  return {
    kind: "event",
    inbound: { ...base, action: "edit", ts: message.ts, text, from: authorOf(message, team) },
  };
}

/**
 * Our text of a Slack message: a person's `text` (their typed words; the blocks say the same
 * with less, e.g. channel ids without names), else what toMessageText reads (blocks, text,
 * attachments: the order bots' messages need).
 */
function textOf(message: Partial<MessageFields>): string | undefined {
  if (message.bot_id === undefined && message.text) {
    const typed = toMessageText({ text: message.text });
    if (typed.ok) return typed.text;
  }
  const read = toMessageText({
    text: message.text ?? null,
    blocks: message.blocks ?? null,
    attachments: message.attachments ?? null,
  });
  return read.ok ? read.text : undefined;
}

function authorOf(message: Partial<MessageFields>, team: string): SlackAuthor {
  const author: SlackAuthor = { team: message.team ?? team };
  if (message.user !== undefined) author.user = message.user;
  if (message.bot_id !== undefined) author.botId = message.bot_id;
  const name = message.username ?? message.bot_profile?.name ?? undefined;
  if (message.user === undefined && name) author.name = name.slice(0, 200);
  return author;
}
