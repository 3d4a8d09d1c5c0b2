/**
 * The Slack bridge's rules (docs/integrations.md, "Slack bridge"), pure: who a Slack author is
 * in the room, what a change in Slack does to the room (`planInbound`), what a room event does in
 * Slack (`planOutbound`), and which events are the bridge's own coming back (echoes). The hub
 * gathers the facts (the ts ↔ seq map, the link); the consumer carries the plans out.
 */
import type { IntegrationsConfig } from "../config.ts";
import type { Command, RoomEvent, ServiceScope } from "../protocol/index.ts";
import type { PostMessageArgs } from "./slack-api.ts";
import type { SlackAuthor, SlackInbound } from "./slack-events.ts";
import { toSlackText } from "./slack-format.ts";
import { toHex } from "./hmac.ts";

/** What the bridge needs to run; undefined when it is off (a secret is missing). */
export type SlackSettings = { signingSecret: string; botToken: string; apiBase: string };

export function slackSettings(config: IntegrationsConfig): SlackSettings | undefined {
  const { SLACK_SIGNING_SECRET: signingSecret, SLACK_BOT_TOKEN: botToken } = config;
  if (signingSecret === undefined || botToken === undefined) return undefined;
  return { signingSecret, botToken, apiBase: config.SLACK_API_BASE };
}

/** The room events the bridge mirrors to Slack; a linked room feeds its hub these. */
export const BRIDGED_TYPES = [
  "message.posted",
  "message.edited",
  "message.deleted",
  "message.redacted",
  "message.restored",
] as const;
export type BridgedType = (typeof BRIDGED_TYPES)[number];
export type BridgedEvent = Extract<RoomEvent, { type: BridgedType }>;

export const isBridged = (event: RoomEvent): event is BridgedEvent =>
  (BRIDGED_TYPES as readonly string[]).includes(event.type);

/** A message known to both sides: its room seq, its Slack ts, where it was first written. */
export type MappedMessage = {
  seq: number;
  /** Null while a room message waits for chat.postMessage's answer. */
  ts: string | null;
  /** The thread's parent in Slack, for a reply. */
  threadTs: string | null;
  origin: "slack" | "room";
  /** The author's room id: the bridge's actor of a Slack message, the room user of a room's. */
  authorId: string | null;
  /** A room message's author's name: a restore is shown under it again, whoever restored it. */
  authorName: string | null;
  /** The Slack copy: `pending` (not yet posted), `posted`, `deleted`, `failed` (given up). */
  state: "pending" | "posted" | "deleted" | "failed";
  /** A post under way until then (ms): another delivery of it waits rather than post twice. */
  claimedUntil: number | null;
};

/** Who the bridge's bot is in Slack, from auth.test: its own messages come back as events. */
export type SlackIdentity = { userId: string; botId?: string; teamId: string };

/** What the identity is kept under: 16 hex of the token's SHA-256, so a new token asks again. */
export async function tokenHint(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return toHex(new Uint8Array(digest)).slice(0, 16);
}

// ---- waiting and retrying -------------------------------------------------------------------

/**
 * A change in Slack whose message (or thread parent) the map does not know yet waits for it this
 * many deliveries (the queue does not keep order), then goes on without it.
 */
export const INBOUND_WAITS = 5;
/** Deliveries of one Slack call at most (waits included) before it is given up and recorded. */
export const SLACK_MAX_TRIES = 10;
/** How long a claimed post holds: longer than a Web API call may take (10 s). */
export const CLAIM_MS = 30_000;

/** Seconds before the next delivery after the `attempt`-th: 2, 4, 8, … up to 5 minutes. */
export const backoffSeconds = (attempt: number): number => Math.min(300, 2 ** Math.max(1, attempt));

// ---- who writes in the room ---------------------------------------------------------------

/** The longest name a bridged author shows in the room. */
export const MAX_AUTHOR_NAME = 80;
export const SLACK_NAME_SUFFIX = " (Slack)";

/** The key of a Slack author in the hub's cache: its team and its user (or bot) id. */
export const authorKey = (from: SlackAuthor): string =>
  `${from.team}:${from.user ?? from.botId ?? "unknown"}`;

/**
 * The room's user id of a Slack author: `svc_` and 32 hex of SHA-256 over its team and user id,
 * so that the same person is the same author in every room and after every restart, may edit
 * and delete only their own messages, and cannot be anyone else (the prefix is a service's).
 */
export async function slackActorId(from: SlackAuthor): Promise<string> {
  const key = new TextEncoder().encode(`slack:${authorKey(from)}`);
  const digest = await crypto.subtle.digest("SHA-256", key);
  return `svc_${toHex(new Uint8Array(digest)).slice(0, 32)}`;
}

/** How a Slack author reads in the room: `Ann (Slack)`, at most 80 code points in all. */
export function slackAuthorName(shown: string): string {
  const clean = shown.replace(/\s+/g, " ").trim() || "someone";
  const room = MAX_AUTHOR_NAME - [...SLACK_NAME_SUFFIX].length;
  return `${[...clean].slice(0, room).join("")}${SLACK_NAME_SUFFIX}`;
}

/** A bridged author's scope: their own messages in the linked room, as a member. */
export const slackScope = (room: string): ServiceScope => ({
  rooms: [room],
  actions: ["post", "edit", "delete"],
  role: "member",
});

// ---- Slack → room ---------------------------------------------------------------------------

/** A Slack ts as ms since 1970. */
export const tsMillis = (ts: string): number => Math.floor(Number(ts) * 1000);

/** Whether a Slack event is the bridge's own post, edit or delete coming back. */
export function isOwnEcho(from: SlackAuthor, identity: SlackIdentity | undefined): boolean {
  if (identity === undefined) return false;
  return (
    (from.botId !== undefined && from.botId === identity.botId) || from.user === identity.userId
  );
}

export type InboundFacts = {
  /** When the link was made (ms): older messages were never mirrored. */
  linkedAt: number;
  /** This event_id was carried out already. */
  seen: boolean;
  identity: SlackIdentity | undefined;
  /** The map's row of the event's message (`ts`). */
  own: MappedMessage | undefined;
  /** The map's row of its thread's parent (`threadTs`), for a reply. */
  parent: MappedMessage | undefined;
  /** This queue message's delivery, 1 for the first. */
  attempt: number;
};

export type InboundPlan =
  | { kind: "skip"; reason: string }
  | { kind: "wait"; delaySeconds: number; reason: string }
  | { kind: "post"; text: string; replyTo?: number }
  | { kind: "edit"; messageId: number; authorId: string; text: string }
  | { kind: "delete"; messageId: number; authorId: string };

/** What a change in Slack does to the linked room. */
export function planInbound(inbound: SlackInbound, facts: InboundFacts): InboundPlan {
  if (facts.seen) return { kind: "skip", reason: "duplicate: this event_id was carried out" };
  if (isOwnEcho(inbound.from, facts.identity))
    return { kind: "skip", reason: "echo: the bridge's own bot wrote it" };
  if (facts.own?.origin === "room")
    return { kind: "skip", reason: "echo: a room message the bridge posted" };
  if (inbound.action === "post") return planPost(inbound, facts);
  const own = facts.own;
  if (own === undefined) return unknownMessage(inbound.ts, facts);
  if (own.state === "deleted") return { kind: "skip", reason: "the message is deleted already" };
  if (own.authorId === null) return { kind: "skip", reason: "the message has no bridged author" };
  if (inbound.action === "delete")
    return { kind: "delete", messageId: own.seq, authorId: own.authorId };
  return { kind: "edit", messageId: own.seq, authorId: own.authorId, text: inbound.text ?? "" };
}

/**
 * The room command of a plan, its clientId derived from Slack's event id: whatever delivers the
 * event again (Slack's retries, the queue's), the room applies it once (its idempotency keys).
 */
export function commandOf(
  plan: Extract<InboundPlan, { kind: "post" | "edit" | "delete" }>,
  eventId: string,
): Command {
  const clientId = `slack:${eventId}`;
  switch (plan.kind) {
    case "post":
      return plan.replyTo === undefined
        ? { type: "post", clientId, text: plan.text }
        : { type: "post", clientId, text: plan.text, replyTo: plan.replyTo };
    case "edit":
      return { type: "edit", clientId, messageId: plan.messageId, text: plan.text };
    case "delete":
      return { type: "delete", clientId, messageId: plan.messageId };
  }
}

function planPost(inbound: SlackInbound, facts: InboundFacts): InboundPlan {
  if (facts.own !== undefined) return { kind: "skip", reason: "duplicate: the ts is mirrored" };
  const text = inbound.text ?? "";
  if (inbound.threadTs === undefined) return { kind: "post", text };
  const parent = facts.parent;
  if (parent !== undefined)
    return parent.state === "deleted"
      ? { kind: "post", text }
      : { kind: "post", text, replyTo: parent.seq };
  // The parent came before the link: the reply goes to the room on its own.
  if (tsMillis(inbound.threadTs) < facts.linkedAt) return { kind: "post", text };
  if (facts.attempt <= INBOUND_WAITS)
    return {
      kind: "wait",
      delaySeconds: backoffSeconds(facts.attempt),
      reason: "thread parent not mirrored yet",
    };
  return { kind: "post", text };
}

function unknownMessage(ts: string, facts: InboundFacts): InboundPlan {
  if (tsMillis(ts) < facts.linkedAt)
    return { kind: "skip", reason: "the message came before the link" };
  if (facts.attempt <= INBOUND_WAITS)
    return {
      kind: "wait",
      delaySeconds: backoffSeconds(facts.attempt),
      reason: "message not mirrored yet",
    };
  return { kind: "skip", reason: "the message was never mirrored" };
}

// ---- room → Slack ---------------------------------------------------------------------------

export type OutboundFacts = {
  channel: string;
  /** The room's last seq when the link was made: older messages were never mirrored. */
  linkedSeq: number;
  /** The map's row of the event's message. */
  row: MappedMessage | undefined;
  /** The map's row of the message it replies to (a post or a restore). */
  parent: MappedMessage | undefined;
  attempt: number;
  now: number;
};

/** chat.postMessage's arguments the bridge sends (no `metadata`: it does not cross an RPC). */
export type PostArgs = Omit<PostMessageArgs, "metadata">;

export type SlackCall =
  | { method: "chat.postMessage"; args: PostArgs }
  | { method: "chat.update"; args: { channel: string; ts: string; text: string } }
  | { method: "chat.delete"; args: { channel: string; ts: string } };

export type OutboundPlan =
  | { kind: "skip"; reason: string }
  | { kind: "wait"; delaySeconds: number; reason: string }
  | { kind: "call"; messageId: number; call: SlackCall };

/** The message a bridged room event is about: a post's own seq, else `data.messageId`. */
export const messageIdOf = (event: BridgedEvent): number =>
  event.type === "message.posted" ? event.seq : event.data.messageId;

/** What a room event (not written by the bridge) does in the linked channel. */
export function planOutbound(event: BridgedEvent, facts: OutboundFacts): OutboundPlan {
  const messageId = messageIdOf(event);
  const row = facts.row;
  if (row === undefined) {
    if (messageId <= facts.linkedSeq || event.type === "message.posted")
      return { kind: "skip", reason: "the message came before the link" };
    return waitOrGiveUp(facts.attempt, "the message is not in the map yet");
  }
  if (row.origin === "slack")
    return { kind: "skip", reason: "a Slack person's message: the bot may not change it" };
  if (row.state === "failed") return { kind: "skip", reason: "the message never reached Slack" };
  const call = (c: SlackCall): OutboundPlan => ({ kind: "call", messageId, call: c });
  switch (event.type) {
    case "message.posted":
    case "message.restored": {
      if (event.data.text === "") return { kind: "skip", reason: "the text was redacted" };
      const wanted = event.type === "message.posted" ? "pending" : "deleted";
      if (row.state !== wanted) return { kind: "skip", reason: `the Slack copy is ${row.state}` };
      if (row.claimedUntil !== null && row.claimedUntil > facts.now)
        return waitOrGiveUp(facts.attempt, "another delivery is posting it");
      const threadTs = threadOf(event, row, facts);
      if (threadTs === "wait")
        return waitOrGiveUp(facts.attempt, "its thread's parent is not in Slack yet");
      const username = row.authorName ?? event.actor.name;
      return call({
        method: "chat.postMessage",
        args: postArgs(event.data.text, username, facts.channel, threadTs),
      });
    }
    case "message.edited":
    case "message.deleted":
    case "message.redacted": {
      if (row.state === "deleted") return { kind: "skip", reason: "the Slack copy is deleted" };
      if (row.ts === null) return waitOrGiveUp(facts.attempt, "the post has no Slack ts yet");
      if (event.type !== "message.edited")
        return call({ method: "chat.delete", args: { channel: facts.channel, ts: row.ts } });
      if (event.data.text === "") return { kind: "skip", reason: "the text was redacted" };
      const text = toSlackText(event.data.text);
      return call({ method: "chat.update", args: { channel: facts.channel, ts: row.ts, text } });
    }
  }
}

function waitOrGiveUp(attempt: number, reason: string): OutboundPlan {
  return attempt < SLACK_MAX_TRIES
    ? { kind: "wait", delaySeconds: backoffSeconds(attempt), reason }
    : { kind: "skip", reason: `gave up: ${reason}` };
}

/**
 * The Slack thread a post goes in: a restore goes back where it was; a reply goes under its
 * parent's thread (Slack threads are one level: a reply to a reply joins the same thread).
 */
function threadOf(
  event: BridgedEvent & { type: "message.posted" | "message.restored" },
  row: MappedMessage,
  facts: OutboundFacts,
): string | undefined | "wait" {
  if (event.type === "message.restored") return row.threadTs ?? undefined;
  if (event.data.replyTo === undefined) return undefined;
  const parent = facts.parent;
  if (parent === undefined || parent.state === "failed") return undefined;
  if (parent.ts === null) return "wait";
  return parent.threadTs ?? parent.ts;
}

function postArgs(
  text: string,
  username: string,
  channel: string,
  threadTs: string | undefined,
): PostArgs {
  return {
    channel,
    text: toSlackText(text),
    // Shown under the room author's name (chat:write.customize), the app's badge beside it.
    username,
    ...(threadTs !== undefined && { thread_ts: threadTs }),
  };
}
