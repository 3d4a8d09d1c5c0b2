import {
  MAX_WEBHOOKS,
  type CreateWebhook,
  type Delivery,
  type DeliveryQuery,
  type Result,
  type RoomEvent,
  type UpdateWebhook,
  type UserRef,
  type Webhook,
  type WebhookEventTypes,
  type WebhookPayload,
} from "../protocol/index.ts";
import type { AutomationFired } from "../protocol/automation-fired.ts";
import { DeliveryLog } from "./delivery-log.ts";
import type { Verdict } from "./delivery-outcome.ts";
import { generateWebhookSecret } from "./standard-webhooks.ts";
import { receives, WebhookEndpoints } from "./webhook-endpoints.ts";

/** What one try needs: where, what, signed with which secrets. */
export type PreparedTry = { url: string; messageId: string; body: string; secrets: string[] };

const noWebhook = { ok: false, error: { code: "not_found", message: "no such webhook" } } as const;
const noDelivery = {
  ok: false,
  error: { code: "not_found", message: "no such delivery" },
} as const;

export const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

/**
 * One hub's outgoing webhooks (docs/integrations.md, "Outgoing webhooks"): its endpoints and
 * their secrets, its delivery log, and what happens to them: deliveries made from a room's
 * events, a try prepared and its verdict recorded, a replay. No I/O: the hub sends what
 * `deliveriesFor` and `replay` answer to the queue.
 */
export class Webhooks {
  readonly #storage: DurableObjectStorage;
  readonly #endpoints: WebhookEndpoints;
  readonly #log: DeliveryLog;
  #prunedAt = 0;

  /** `room`: the hub's room, undefined for the instance's. */
  constructor(storage: DurableObjectStorage, log: DeliveryLog, room: string | undefined) {
    this.#storage = storage;
    this.#endpoints = new WebhookEndpoints(storage.sql, room);
    this.#log = log;
  }

  list(now: number): Webhook[] {
    return this.#endpoints.list(now);
  }

  get(id: string, now: number): Result<Webhook> {
    const webhook = this.#endpoints.get(id, now);
    return webhook ? { ok: true, value: webhook } : noWebhook;
  }

  /** A new endpoint and its first secret (shown this once). The URL was checked by the caller. */
  create(
    input: CreateWebhook,
    by: UserRef,
    now: number,
  ): Result<{ webhook: Webhook; secret: string }> {
    if (this.#endpoints.count() >= MAX_WEBHOOKS)
      return {
        ok: false,
        error: { code: "conflict", message: `at most ${MAX_WEBHOOKS} webhooks here` },
      };
    const id = `wh_${randomHex(12)}`;
    const secret = generateWebhookSecret();
    this.#endpoints.create(id, input, secret, by, now);
    return { ok: true, value: { webhook: this.#endpoints.get(id, now)!, secret } };
  }

  update(id: string, patch: UpdateWebhook, now: number): Result<Webhook> {
    if (!this.#endpoints.get(id, now)) return noWebhook;
    this.#endpoints.update(id, patch);
    if (patch.status) this.#endpoints.setStatus(id, patch.status === "enabled", "manual", now);
    return { ok: true, value: this.#endpoints.get(id, now)! };
  }

  remove(id: string, now: number): Result<Webhook> {
    const webhook = this.#endpoints.get(id, now);
    if (!webhook) return noWebhook;
    this.#endpoints.remove(id);
    this.#log.removeFor(id);
    return { ok: true, value: webhook };
  }

  /** A new secret; the current ones keep signing beside it for `overlapSeconds`. */
  rotateSecret(
    id: string,
    overlapSeconds: number,
    now: number,
  ): Result<{ webhook: Webhook; secret: string }> {
    if (!this.#endpoints.get(id, now)) return noWebhook;
    const secret = generateWebhookSecret();
    this.#endpoints.expireSecrets(id, now + overlapSeconds * 1000);
    // One ms on, so that the new secret sorts first even within the same millisecond.
    this.#endpoints.addSecret(id, secret, now + 1);
    return { ok: true, value: { webhook: this.#endpoints.get(id, now)!, secret } };
  }

  deliveries(
    webhookId: string,
    query: DeliveryQuery,
    now: number,
  ): Result<{ deliveries: Delivery[]; nextBefore: string | null }> {
    if (!this.#endpoints.get(webhookId, now)) return noWebhook;
    return { ok: true, value: this.#log.page(webhookId, query) };
  }

  delivery(webhookId: string, deliveryId: string): Result<Delivery> {
    const delivery = this.#log.get(webhookId, deliveryId);
    return delivery ? { ok: true, value: delivery } : noDelivery;
  }

  /**
   * A delivery back to `pending`, whatever its state, to be sent again with the same
   * `webhook-id` (receivers that dedupe see it once). Its endpoint must be enabled.
   */
  replay(webhookId: string, deliveryId: string, now: number): Result<Delivery> {
    if (!this.#log.get(webhookId, deliveryId)) return noDelivery;
    if (!this.#endpoints.isEnabled(webhookId))
      return {
        ok: false,
        error: { code: "conflict", message: "the webhook is disabled: enable it, then replay" },
      };
    this.#log.setStatus(deliveryId, "pending", now);
    return { ok: true, value: this.#log.get(webhookId, deliveryId)! };
  }

  /** The event types the enabled endpoints want. */
  wantedTypes(): WebhookEventTypes | [] {
    return this.#endpoints.wantedTypes();
  }

  /**
   * A room's committed events: one delivery per (enabled endpoint, event it wants), created once
   * however often the same events come; redactions scrub the bodies kept for replay. Answers
   * the ids of the events' pending deliveries, new or left pending by a consumer that died.
   */
  deliveriesFor(room: string, events: readonly RoomEvent[], now: number): string[] {
    const targets = this.#endpoints.targets();
    this.#storage.transactionSync(() => {
      for (const event of events) {
        if (event.type === "message.redacted") this.#log.scrub(room, event.data.messageId);
        for (const target of targets.filter((t) => receives(t, event)))
          this.#log.add(
            `dlv_${randomHex(12)}`,
            target.id,
            event,
            room,
            payloadOf(room, event),
            now,
          );
      }
    });
    if (now - this.#prunedAt > 60_000) {
      this.#prunedAt = now;
      this.#log.prune(now);
    }
    return this.#log
      .pendingFor(
        room,
        events.map((event) => event.seq),
      )
      .map(({ id }) => id);
  }

  /**
   * A rule's `webhook` action (docs/automation.md): one delivery to the endpoint it names, whatever
   * event types that endpoint filters on, created once per firing key. Answers the delivery to
   * queue, undefined when it exists already and is not pending, or a refusal for a missing or
   * disabled endpoint.
   */
  deliverFired(
    room: string,
    fired: { webhookId: string; key: string; seq: number; payload: AutomationFired },
    now: number,
  ): Result<string | undefined> {
    const endpoint = this.get(fired.webhookId, now);
    if (!endpoint.ok) return endpoint;
    if (!this.#endpoints.isEnabled(fired.webhookId))
      return { ok: false, error: { code: "conflict", message: "that webhook is disabled" } };
    const messageId = `msg_${fired.key.replaceAll(":", "_")}`;
    const id = `dlv_${randomHex(12)}`;
    const about = {
      messageId,
      eventType: "automation.fired" as const,
      seq: fired.seq,
      messageSeq: null,
    };
    const body = JSON.stringify(fired.payload);
    if (this.#log.addAbout(id, fired.webhookId, about, room, body, now))
      return { ok: true, value: id };
    return { ok: true, value: undefined };
  }

  /** What the next try of a delivery sends, or "skip" when there is nothing to try. */
  prepareTry(deliveryId: string, now: number): PreparedTry | "skip" {
    const delivery = this.#log.stored(deliveryId);
    if (!delivery || delivery.status === "delivered" || delivery.status === "dead") return "skip";
    const url = this.#endpoints.url(delivery.webhookId);
    if (url === undefined) return "skip";
    if (!this.#endpoints.isEnabled(delivery.webhookId)) {
      this.#log.setStatus(deliveryId, "skipped", now);
      return "skip";
    }
    const secrets = this.#endpoints.signingSecrets(delivery.webhookId, now);
    return { url, messageId: delivery.messageId, body: delivery.body, secrets };
  }

  /** Records a try and its verdict: the delivery's state, the endpoint's streak, a disable. */
  recordTry(
    deliveryId: string,
    attempt: Delivery["attempts"][number],
    verdict: Verdict,
    disableAfterMs: number,
  ): void {
    const delivery = this.#log.stored(deliveryId);
    if (!delivery) return;
    const endpoint = delivery.webhookId;
    const now = attempt.at + attempt.durationMs;
    this.#log.addAttempt(deliveryId, attempt);
    if (verdict.kind === "delivered") this.#endpoints.noteSuccess(endpoint, now);
    else this.#endpoints.noteFailure(endpoint, now, disableAfterMs);
    switch (verdict.kind) {
      case "delivered":
        this.#log.setStatus(deliveryId, "delivered", now);
        return;
      case "gone":
        this.#endpoints.setStatus(endpoint, false, "gone", now);
        this.#log.setStatus(deliveryId, "dead", now);
        return;
      case "retry":
        this.#log.setStatus(deliveryId, "retrying", now, now + verdict.delaySeconds * 1000);
        return;
      case "dead":
        // Dead once the dead-letter queue's consumer says so (markDead).
        this.#log.setStatus(deliveryId, "retrying", now);
        return;
    }
  }

  /** The dead-letter queue's consumer: the delivery is given up (replayable). */
  markDead(deliveryId: string, now: number): void {
    const delivery = this.#log.stored(deliveryId);
    if (delivery && delivery.status !== "delivered") this.#log.setStatus(deliveryId, "dead", now);
  }
}

/** The body every receiver of `event` gets (WebhookPayload), serialized once and kept. */
function payloadOf(room: string, event: RoomEvent): string {
  const payload: WebhookPayload = {
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: { room, event },
  };
  return JSON.stringify(payload);
}
