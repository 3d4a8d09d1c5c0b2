/**
 * The Slack bridge's side of the `INTEGRATIONS` queue's consumer (docs/integrations.md, "Slack
 * bridge"): `slack-in` messages (a change in a linked channel, acknowledged to Slack already)
 * become room commands as the Slack author; `slack-out` messages (a linked room's message event)
 * become chat.postMessage, chat.update or chat.delete. The hub decides (slack-hub.ts), this
 * carries out and reports back. Within a batch, the messages of one channel (by ts) and of one
 * room (by seq) are carried out in order, one after the other.
 */
import { integrationsConfig } from "../config.ts";
import type { Actor } from "../identity/actor.ts";
import type { Refusal, Result } from "../protocol/index.ts";
import { log } from "../telemetry/log.ts";
import {
  INSTANCE_HUB,
  roomHub,
  type SlackInMessage,
  type SlackOutMessage,
} from "./queue-messages.ts";
import { SlackApi, SlackApiError, type SlackMessageRef } from "./slack-api.ts";
import {
  backoffSeconds,
  commandOf,
  isBridged,
  SLACK_MAX_TRIES,
  slackActorId,
  slackAuthorName,
  slackScope,
  slackSettings,
  tokenHint,
  type SlackCall,
  type SlackIdentity,
  type SlackSettings,
} from "./slack-bridge.ts";
import type { IntegrationHub } from "./hub.ts";
import type { InboundActor } from "./slack-hub.ts";

export type SlackWork = { message: Message; body: SlackInMessage | SlackOutMessage };

type Context = { env: Env; settings: SlackSettings; api: SlackApi };

const hubOf = (env: Env, hub: string) => env.INTEGRATIONS_HUB.getByName(hub);

/** Carries out a batch's bridge messages: each channel's and each room's in order. */
export async function consumeSlack(work: readonly SlackWork[], env: Env): Promise<void> {
  if (work.length === 0) return;
  const settings = slackSettings(integrationsConfig(env));
  if (settings === undefined) {
    // Turned off while these waited: nothing can carry them out.
    log.warn("the Slack bridge is off: dropped its queue messages", { count: work.length });
    for (const { message } of work) message.ack();
    return;
  }
  const context = {
    env,
    settings,
    api: new SlackApi({ token: settings.botToken, baseUrl: settings.apiBase }),
  };
  await Promise.all(
    [...groups(work).values()].map(async (group) => {
      for (const item of group) await carryOut(item, context);
    }),
  );
}

/** The work by channel (ordered by ts) and by room (ordered by seq). */
function groups(work: readonly SlackWork[]): Map<string, SlackWork[]> {
  const byKey = new Map<string, SlackWork[]>();
  for (const item of work) {
    const key =
      item.body.kind === "slack-in" ? `in:${item.body.inbound.channel}` : `out:${item.body.room}`;
    byKey.set(key, [...(byKey.get(key) ?? []), item]);
  }
  for (const group of byKey.values()) group.sort((a, b) => orderOf(a.body) - orderOf(b.body));
  return byKey;
}

const orderOf = (body: SlackWork["body"]) =>
  body.kind === "slack-in" ? Number(body.inbound.ts) : body.event.seq;

async function carryOut({ message, body }: SlackWork, context: Context): Promise<void> {
  try {
    if (body.kind === "slack-in") await carryIn(body, message, context);
    else await carryOutToSlack(body, message, context);
  } catch (error) {
    // A hub or room call failed, not Slack: the queue's own retries, then its dead-letter queue.
    log.warn("a Slack bridge message failed, will retry", {
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
    message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  }
}

// ---- Slack → room

async function carryIn(body: SlackInMessage, message: Message, context: Context): Promise<void> {
  const { inbound } = body;
  const route = await routeOf(inbound.channel, context);
  if (route === "retry") return message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  if (route === undefined) return message.ack();
  const hub = roomHub(route.room);
  const actorId = await slackActorId(inbound.from);
  const step = await hubOf(context.env, hub).slackInbound(hub, {
    inbound,
    actorId,
    identity: route.identity,
    attempt: message.attempts,
  });
  const { plan, actor: author } = step;
  if (plan.kind === "skip") {
    log.debug("a Slack event not mirrored", { eventId: inbound.eventId, reason: plan.reason });
    return message.ack();
  }
  if (plan.kind === "wait") return message.retry({ delaySeconds: plan.delaySeconds });
  const name = await nameOf(author!, hub, context);
  if (name === "retry") return message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  const actor: Actor = { id: author!.id, name, kind: "service", scope: slackScope(route.room) };
  const result = await commandAs(
    actor,
    plan,
    inbound.eventId,
    context.env.ROOM.getByName(route.room),
  );
  const hubStub = hubOf(context.env, hub);
  if (result.ok) {
    await hubStub.slackInboundDone(hub, inbound, actor.id, result.value.seq);
    return message.ack();
  }
  if (mayPassLater(result.error) && message.attempts < SLACK_MAX_TRIES)
    return message.retry({
      delaySeconds: Math.ceil(result.error.retryAfter ?? backoffSeconds(message.attempts)),
    });
  log.warn("the room refused a Slack message", { room: route.room, code: result.error.code });
  await hubStub.slackInboundFailed(hub, inbound, {
    direction: "from_slack",
    code: result.error.code,
    message: `the room refused a Slack ${inbound.action}: ${result.error.message}`,
    at: Date.now(),
  });
  message.ack();
}

/**
 * The linked room of a channel and our bot's ids, from the instance's hub in one call (the ids
 * learned with auth.test the first time); undefined for a channel that is not linked.
 */
async function routeOf(
  channel: string,
  context: Context,
): Promise<{ room: string; identity: SlackIdentity | undefined } | undefined | "retry"> {
  const instance = hubOf(context.env, INSTANCE_HUB);
  const hint = await tokenHint(context.settings.botToken);
  const route = await instance.slackRoute(channel, hint);
  if (route.room === undefined) return undefined;
  const identity = route.identity ?? (await learnIdentity(context.api, instance, hint));
  return identity === "retry" ? "retry" : { room: route.room, identity };
}

/** The plan's command in the room, as the Slack author; a reply whose parent is gone, alone. */
async function commandAs(
  actor: Actor,
  plan: Parameters<typeof commandOf>[0],
  eventId: string,
  room: ReturnType<Env["ROOM"]["getByName"]>,
): Promise<Result<{ seq: number }>> {
  const result = await room.command(commandOf(plan, eventId), actor);
  if (result.ok || result.error.code !== "not_found" || plan.kind !== "post" || !plan.replyTo)
    return result;
  return room.command(commandOf({ kind: "post", text: plan.text }, eventId), actor);
}

const mayPassLater = (refusal: Refusal) =>
  refusal.code === "rate_limited" ||
  refusal.code === "overloaded" ||
  refusal.code === "unavailable";

/**
 * Our bot's ids from auth.test, kept in the instance's hub. Slack may be away ("retry"); a token
 * Slack refuses goes on without them (echoes are still known by the map's ts).
 */
async function learnIdentity(
  api: SlackApi,
  instance: DurableObjectStub<IntegrationHub>,
  hint: string,
): Promise<SlackIdentity | undefined | "retry"> {
  try {
    const found = await api.authTest();
    const identity: SlackIdentity = {
      userId: found.userId,
      teamId: found.teamId,
      ...(found.botId !== undefined && { botId: found.botId }),
    };
    await instance.setSlackIdentity(hint, identity);
    return identity;
  } catch (error) {
    if (error instanceof SlackApiError && !error.retriable) {
      log.error("Slack refused the bot token in auth.test", { error: error.error });
      return undefined;
    }
    return "retry";
  }
}

/**
 * The author's name in the room: fresh from the hub, else from users.info (then kept an hour).
 * When Slack does not answer, the name known before, or wait; a user Slack does not know reads as
 * its id.
 */
async function nameOf(
  actor: InboundActor,
  hub: string,
  context: Context,
): Promise<string | "retry"> {
  if (actor.name !== undefined) return actor.name;
  if (actor.slackUser === undefined) return actor.staleName ?? slackAuthorName("someone");
  let name: string;
  try {
    name = slackAuthorName((await context.api.userInfo(actor.slackUser)).displayName);
  } catch (error) {
    if (!(error instanceof SlackApiError) || error.retriable) return actor.staleName ?? "retry";
    name = slackAuthorName(actor.slackUser);
  }
  await hubOf(context.env, hub).setSlackAuthorName(hub, actor.key, name);
  return name;
}

// ---- room → Slack

async function carryOutToSlack(
  body: SlackOutMessage,
  message: Message,
  context: Context,
): Promise<void> {
  const { event } = body;
  if (!isBridged(event)) return message.ack();
  const hub = roomHub(body.room);
  const hubStub = hubOf(context.env, hub);
  const plan = await hubStub.slackOutbound(hub, event, message.attempts);
  if (plan.kind === "skip") {
    log.debug("a room event not sent to Slack", {
      room: body.room,
      seq: event.seq,
      reason: plan.reason,
    });
    return message.ack();
  }
  if (plan.kind === "wait") return message.retry({ delaySeconds: plan.delaySeconds });
  try {
    const answer = await callSlack(context.api, plan.call);
    await hubStub.slackOutboundDone(hub, plan.messageId, plan.call, answer.ts);
    message.ack();
  } catch (error) {
    if (!(error instanceof SlackApiError)) throw error;
    const spent = message.attempts >= SLACK_MAX_TRIES;
    const final = !error.retriable || spent;
    const why = spent && error.retriable ? `gave up after ${message.attempts} tries: ` : "";
    await hubStub.slackOutboundFailed(hub, plan.messageId, plan.call, {
      code: error.error,
      message: `${why}${plan.call.method} failed: ${error.error}${HINTS[error.error] ?? ""}`,
      final,
    });
    if (final) {
      log.warn("Slack refused a bridged message", { room: body.room, error: error.error });
      return message.ack();
    }
    // Slack's Retry-After (a 429) when it gave one, else the backoff.
    message.retry({ delaySeconds: error.retryAfterSeconds ?? backoffSeconds(message.attempts) });
  }
}

function callSlack(api: SlackApi, call: SlackCall): Promise<SlackMessageRef> {
  switch (call.method) {
    case "chat.postMessage":
      return api.postMessage(call.args);
    case "chat.update":
      return api.update(call.args);
    case "chat.delete":
      return api.delete(call.args);
  }
}

/** What an admin can do about the refusals that need one, shown after the code. */
const HINTS: Record<string, string> = {
  channel_not_found: " (the channel id is wrong, or the channel is private and the bot not in it)",
  not_in_channel: " (invite the bot: /invite @edgechat in the channel)",
  is_archived: " (the channel is archived)",
  invalid_auth: " (SLACK_BOT_TOKEN is not a valid bot token)",
  token_revoked: " (the app was uninstalled: install it again and set SLACK_BOT_TOKEN)",
  missing_scope: " (the app lacks a scope of slack/manifest.yml: update it and reinstall)",
  msg_too_long: " (the message is longer than Slack takes)",
};
