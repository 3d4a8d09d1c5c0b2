import { integrationsConfig } from "../config.ts";
import type { Delivery } from "../protocol/index.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { DEFAULT_RETRY_DELAYS } from "./retry-schedule.ts";
import { judgeTry } from "./delivery-outcome.ts";
import { sendOutbound } from "./outbound-request.ts";
import { checkOutboundUrl } from "./outbound-url.ts";
import {
  DeliveryMessage,
  INSTANCE_HUB,
  IntegrationMessage,
  roomHub,
  type HubName,
} from "./queue-messages.ts";
import { webhookHeaders } from "./standard-webhooks.ts";
import { consumeSlack, type SlackWork } from "./slack-consumer.ts";

/**
 * The `INTEGRATIONS` queue's consumer (docs/integrations.md). A `room-events` message becomes
 * deliveries in the room's hub and the instance's; a `delivery` message is one signed try, acked
 * when delivered, retried on the schedule (`msg.retry` with its delay), and moved to the
 * dead-letter queue when the schedule is spent. Messages are handled concurrently within a batch.
 */
export async function consumeIntegrations(batch: MessageBatch, env: Env): Promise<void> {
  const slack: SlackWork[] = [];
  const others: { message: Message; body: WebhookMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = IntegrationMessage.safeParse(message.body);
    if (!parsed.success) {
      log.error("dropped a queue message that does not parse", { id: message.id });
      message.ack();
      continue;
    }
    const body = parsed.data;
    if (body.kind === "slack-in" || body.kind === "slack-out") slack.push({ message, body });
    else others.push({ message, body });
  }
  await Promise.all([
    ...others.map(({ message, body }) => consumeOne(message, body, env)),
    consumeSlack(slack, env),
  ]);
}

/** The dead-letter queue's consumer: what it holds is given up, and recorded as such. */
export async function consumeDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = DeliveryMessage.safeParse(message.body);
    if (parsed.success)
      await hubOf(env, parsed.data.hub).markDead(parsed.data.hub, parsed.data.deliveryId);
    else
      log.error("a message in the dead-letter queue is not a delivery", {
        id: message.id,
        kind: kindOf(message.body),
      });
    message.ack();
  }
}

const hubOf = (env: Env, hub: HubName) => env.INTEGRATIONS_HUB.getByName(hub);

type WebhookMessage = Exclude<IntegrationMessage, SlackWork["body"]>;

/** What a dead letter was (a Slack bridge message the hubs kept failing on, say), for the log. */
const kindOf = (body: unknown) =>
  typeof body === "object" && body !== null && "kind" in body ? String(body.kind) : "unknown";

async function consumeOne(message: Message, body: WebhookMessage, env: Env): Promise<void> {
  try {
    switch (body.kind) {
      case "room-events":
        await Promise.all(
          body.hubs
            .map((which) => (which === "room" ? roomHub(body.room) : INSTANCE_HUB))
            .map((hub) => hubOf(env, hub).accept(hub, body.room, body.events)),
        );
        message.ack();
        return;
      case "delivery":
        await tryDelivery(body, message, env);
        return;
    }
  } catch (error) {
    // The hub or the queue failed us, not the receiver: the queue's own retries (max_retries),
    // then its dead-letter queue.
    log.warn("an integrations message failed, will retry", {
      id: message.id,
      error: errorFields(error),
    });
    message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
  }
}

/** One try of one delivery: sign, send, record, and ack, retry or dead-letter. */
async function tryDelivery(body: DeliveryMessage, message: Message, env: Env): Promise<void> {
  const hub = hubOf(env, body.hub);
  const prepared = await hub.prepareTry(body.hub, body.deliveryId);
  if (prepared === "skip") {
    message.ack();
    return;
  }
  const config = integrationsConfig(env);
  const at = Date.now();
  const attempt = await sendSigned(prepared, config, at);
  const verdict = judgeTry(
    { status: attempt.status, retryAfterSeconds: attempt.retryAfterSeconds },
    message.attempts,
    config.WEBHOOK_RETRY_DELAYS ?? DEFAULT_RETRY_DELAYS,
  );
  await hub.recordTry(body.hub, body.deliveryId, attempt.record, verdict);
  // One line per try: with the delivery log, how a delivery can be followed end to end.
  log.info("webhook try", {
    hub: body.hub,
    delivery: body.deliveryId,
    webhookId: prepared.messageId,
    try: message.attempts,
    status: attempt.record.status,
    error: attempt.record.error,
    durationMs: attempt.record.durationMs,
    verdict: verdict.kind,
  });
  switch (verdict.kind) {
    case "delivered":
    case "gone":
      message.ack();
      return;
    case "retry":
      message.retry({ delaySeconds: verdict.delaySeconds });
      return;
    case "dead":
      await env.INTEGRATIONS_DLQ.send(body);
      message.ack();
      return;
  }
}

async function sendSigned(
  prepared: { url: string; messageId: string; body: string; secrets: string[] },
  config: ReturnType<typeof integrationsConfig>,
  at: number,
): Promise<{
  status: number | null;
  retryAfterSeconds?: number;
  record: Delivery["attempts"][number];
}> {
  const checked = checkOutboundUrl(prepared.url, { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK });
  if (!checked.ok)
    return {
      status: null,
      record: { at, status: null, error: "refused", durationMs: 0, response: checked.reason },
    };
  const headers = await webhookHeaders({
    id: prepared.messageId,
    timestampSeconds: Math.floor(at / 1000),
    body: prepared.body,
    secrets: prepared.secrets,
  });
  const result = await sendOutbound(
    checked.url,
    { method: "POST", headers, body: prepared.body },
    { timeoutMs: config.WEBHOOK_TIMEOUT_MS },
  );
  return {
    status: result.status,
    ...(result.retryAfterSeconds !== undefined && { retryAfterSeconds: result.retryAfterSeconds }),
    record: {
      at,
      status: result.status,
      error: result.error ?? null,
      durationMs: Math.round(result.durationMs),
      response: result.responseExcerpt,
    },
  };
}
