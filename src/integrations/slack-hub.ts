/**
 * The Slack bridge's part of a room's IntegrationHub (docs/integrations.md, "Slack bridge"): it
 * gathers the facts a plan needs from the tables, asks the pure rules (slack-bridge.ts), and
 * writes down what the consumer did. Synchronous, so that each step is one turn of the object.
 */
import type { RoomEvent, SlackLinkError } from "../protocol/index.ts";
import {
  authorKey,
  CLAIM_MS,
  isBridged,
  messageIdOf,
  planInbound,
  planOutbound,
  slackAuthorName,
  type BridgedEvent,
  type InboundPlan,
  type OutboundPlan,
  type SlackCall,
  type SlackIdentity,
} from "./slack-bridge.ts";
import type { SlackInbound } from "./slack-events.ts";
import { NAME_TTL_MS, type SlackTables } from "./slack-tables.ts";

/**
 * Who a Slack change is carried out as: the bridge's actor id, and its name when it is fresh;
 * otherwise the consumer asks users.info for `slackUser`'s and tells the hub (`staleName`
 * meanwhile, if users.info fails).
 */
export type InboundActor = {
  id: string;
  key: string;
  name?: string;
  staleName?: string;
  slackUser?: string;
};

export type InboundStep = { plan: InboundPlan; actor?: InboundActor };

const skip = (reason: string) => ({ plan: { kind: "skip", reason } as const });

/** What to do with a change in the linked channel, its author registered before it acts. */
export function stepInbound(
  tables: SlackTables,
  input: {
    inbound: SlackInbound;
    actorId: string;
    identity: SlackIdentity | undefined;
    attempt: number;
    now: number;
  },
): InboundStep {
  const { inbound, now } = input;
  const link = tables.ownLink();
  if (link === undefined || link.channel !== inbound.channel)
    return skip("the channel is not linked here");
  const plan = planInbound(inbound, {
    linkedAt: link.createdAt,
    seen: tables.seen(inbound.eventId, now),
    identity: input.identity,
    own: tables.messageByTs(inbound.ts),
    parent: inbound.threadTs === undefined ? undefined : tables.messageByTs(inbound.threadTs),
    attempt: input.attempt,
  });
  if (plan.kind === "skip") tables.markSeen(inbound.eventId, now);
  if (plan.kind === "skip" || plan.kind === "wait") return { plan };
  if (plan.kind === "post") {
    // Registered before the post, so that the room's event of it is known as the bridge's.
    const key = authorKey(inbound.from);
    tables.addAuthor(key, input.actorId, inbound.from.user);
    // Another app's bot is named in its message (no users.info), and keeps it for its edits.
    if (inbound.from.user === undefined)
      tables.setAuthorName(
        key,
        slackAuthorName(inbound.from.name ?? inbound.from.botId ?? "bot"),
        now,
      );
  }
  const authorId = plan.kind === "post" ? input.actorId : plan.authorId;
  return { plan, actor: actorOf(tables, authorId, now) };
}

function actorOf(tables: SlackTables, actorId: string, now: number): InboundActor {
  const author = tables.authorById(actorId);
  if (author === undefined) return { id: actorId, key: actorId, name: slackAuthorName("someone") };
  const fresh = author.fetchedAt !== null && now - author.fetchedAt < NAME_TTL_MS;
  const actor: InboundActor = { id: actorId, key: author.key };
  if (author.name !== null && (fresh || author.slackUser === null)) actor.name = author.name;
  else {
    if (author.name !== null) actor.staleName = author.name;
    if (author.slackUser !== null) actor.slackUser = author.slackUser;
  }
  return actor;
}

/** The room took the change (as message `seq` for a post): the map and the link say so. */
export function finishInbound(
  tables: SlackTables,
  inbound: SlackInbound,
  actorId: string,
  seq: number,
  now: number,
): void {
  if (inbound.action === "post") tables.addFromSlack(seq, inbound.ts, inbound.threadTs, actorId);
  if (inbound.action === "delete") {
    const row = tables.messageByTs(inbound.ts);
    if (row !== undefined) tables.setState(row.seq, "deleted");
  }
  tables.markSeen(inbound.eventId, now);
  tables.noteMessage(now);
  tables.pruneSeen(now);
}

/** The room refused the change for good: not tried again, and shown on the link. */
export function failInbound(
  tables: SlackTables,
  inbound: SlackInbound,
  error: SlackLinkError,
  now: number,
): void {
  tables.markSeen(inbound.eventId, now);
  tables.noteError(error);
}

// ---- room → Slack

/**
 * The linked room's committed events that go to Slack: those of its people (not of the bridge's
 * Slack authors: that would echo), about messages written since the link. Each post gets its row
 * in the map, `pending`; a post redelivered while still pending goes again (the claim in
 * `stepOutbound` keeps it from being posted twice).
 */
export function acceptForSlack(
  tables: SlackTables,
  room: string,
  events: readonly RoomEvent[],
): BridgedEvent[] {
  const link = tables.ownLink();
  if (link === undefined || link.room !== room) return [];
  const out: BridgedEvent[] = [];
  for (const event of events) {
    if (!isBridged(event) || tables.isBridgeAuthor(event.actor.id)) continue;
    const messageId = messageIdOf(event);
    if (messageId <= link.linkedSeq) continue;
    if (event.type === "message.posted") {
      tables.addPending(event.seq, event.actor.id, event.actor.name);
      if (tables.messageBySeq(event.seq)?.state === "pending") out.push(event);
      continue;
    }
    if (tables.messageBySeq(messageId)?.origin === "slack") continue;
    out.push(event);
  }
  return out;
}

/** What to call in Slack for a room event now; a post is claimed while it is under way. */
export function stepOutbound(
  tables: SlackTables,
  event: BridgedEvent,
  attempt: number,
  now: number,
): OutboundPlan {
  const link = tables.ownLink();
  if (link === undefined) return { kind: "skip", reason: "the room is not linked" };
  const replyTo = event.type === "message.posted" ? event.data.replyTo : undefined;
  const plan = planOutbound(event, {
    channel: link.channel,
    linkedSeq: link.linkedSeq,
    row: tables.messageBySeq(messageIdOf(event)),
    parent: replyTo === undefined ? undefined : tables.messageBySeq(replyTo),
    attempt,
    now,
  });
  if (plan.kind === "call" && plan.call.method === "chat.postMessage")
    tables.claim(plan.messageId, now + CLAIM_MS);
  return plan;
}

/** Slack carried the call out (a post at `ts`). */
export function finishOutbound(
  tables: SlackTables,
  messageId: number,
  call: SlackCall,
  ts: string,
  now: number,
): void {
  if (call.method === "chat.postMessage") tables.posted(messageId, ts, call.args.thread_ts);
  if (call.method === "chat.delete") tables.setState(messageId, "deleted");
  tables.noteMessage(now);
}

/**
 * Slack refused the call. A message already gone from Slack (`message_not_found` on an update or
 * a delete) is simply deleted there; a refusal that will not change is recorded on the link
 * (and a post given up); one that may pass later releases its claim for the retry.
 */
export function failOutbound(
  tables: SlackTables,
  messageId: number,
  call: SlackCall,
  error: { code: string; message: string; final: boolean },
  now: number,
): void {
  if (call.method !== "chat.postMessage" && error.code === "message_not_found") {
    tables.setState(messageId, "deleted");
    return;
  }
  if (!error.final) {
    if (call.method === "chat.postMessage") tables.claim(messageId, 0);
    return;
  }
  if (call.method === "chat.postMessage") tables.setState(messageId, "failed");
  tables.noteError({ direction: "to_slack", code: error.code, message: error.message, at: now });
}
