import * as z from "zod";
import { RoomEvent, type EventType, EventData } from "./events.ts";
import { RoomName, Seq, UserRef } from "./names.ts";

/**
 * Additions: the wire types of integrations (docs/integrations.md). Outgoing webhooks belong to
 * a room (its owner manages them) or to the instance (admins); both have the same shape.
 */

export const EVENT_TYPES = Object.keys(EventData) as [EventType, ...EventType[]];
export const EventTypeName = z.enum(EVENT_TYPES, {
  error: () => `an event type is one of ${EVENT_TYPES.join(", ")}`,
});

export const WebhookId = z.string().regex(/^wh_[0-9a-f]{24}$/, "a webhook id is wh_ and 24 hex");
export const DeliveryId = z
  .string()
  .regex(/^dlv_[0-9a-f]{24}$/, "a delivery id is dlv_ and 24 hex");

/** Longest URL accepted for an endpoint (the guard in src/integrations/outbound-url.ts). */
export const MAX_WEBHOOK_URL = 2048;
/** Webhooks per room, and for the instance. */
export const MAX_WEBHOOKS = 10;

/** Which events go to an endpoint: a list of types, or every type. */
export const WebhookEventTypes = z.union([
  z.literal("*"),
  z.array(EventTypeName).min(1, 'name at least one event type, or "*"').max(EVENT_TYPES.length),
]);
export type WebhookEventTypes = z.infer<typeof WebhookEventTypes>;

export const WebhookStatus = z.enum(["enabled", "disabled"]);
/** Why an endpoint stopped: its owner, a 410 Gone, or failures without a success for too long. */
export const DisabledReason = z.enum(["manual", "gone", "failing"]);
export type DisabledReason = z.infer<typeof DisabledReason>;

/** A signing secret as its owner sees it after creation: never the secret itself. */
export const WebhookSecretInfo = z.object({
  /** The secret's first characters (`whsec_` and 4 more), to tell two apart. */
  hint: z.string(),
  createdAt: z.number(),
  /** Set when a rotation replaced it: it still signs until then. */
  expiresAt: z.number().nullable(),
});

export const Webhook = z.object({
  id: WebhookId,
  /** The room whose events it receives; absent for the instance's. */
  room: RoomName.optional(),
  url: z.string(),
  description: z.string(),
  eventTypes: WebhookEventTypes,
  status: WebhookStatus,
  disabledReason: DisabledReason.nullable(),
  createdBy: UserRef,
  createdAt: z.number(),
  /** Attempts failed in a row, across deliveries; a success resets it. */
  failuresInARow: z.number().int(),
  lastSuccessAt: z.number().nullable(),
  lastFailureAt: z.number().nullable(),
  /** Newest first; two while a rotation's overlap lasts. */
  secrets: z.array(WebhookSecretInfo),
});
export type Webhook = z.infer<typeof Webhook>;

export const WebhookList = z.object({ webhooks: z.array(Webhook) });

const Description = z.string().max(200, "a description is at most 200 characters");

export const CreateWebhook = z
  .object({
    url: z.string().max(MAX_WEBHOOK_URL, `a URL is at most ${MAX_WEBHOOK_URL} characters`),
    eventTypes: WebhookEventTypes,
    description: Description.default(""),
  })
  .strict();
export type CreateWebhook = z.infer<typeof CreateWebhook>;

export const UpdateWebhook = z
  .object({
    url: CreateWebhook.shape.url.optional(),
    eventTypes: WebhookEventTypes.optional(),
    description: Description.optional(),
    /** `enabled` again after a disable (its failure count starts over), or `disabled` by hand. */
    status: WebhookStatus.optional(),
  })
  .strict();
export type UpdateWebhook = z.infer<typeof UpdateWebhook>;

export const ROTATION_OVERLAP_DEFAULT_SECONDS = 24 * 60 * 60;
export const ROTATION_OVERLAP_MAX_SECONDS = 7 * 24 * 60 * 60;
export const RotateWebhookSecret = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(ROTATION_OVERLAP_MAX_SECONDS)
      .default(ROTATION_OVERLAP_DEFAULT_SECONDS),
  })
  .strict();

/** The answer that creates an endpoint or rotates its secret: the only one holding the secret. */
export const IssuedWebhookSecret = z.object({ webhook: Webhook, secret: z.string() });
export type IssuedWebhookSecret = z.infer<typeof IssuedWebhookSecret>;

/**
 * What a receiver gets (the request body; the headers are Standard Webhooks'): `type` is the
 * event's type, `timestamp` when it was logged, `data` the room and the event as the events API
 * serves it.
 */
export const WebhookPayload = z.object({
  type: EventTypeName,
  timestamp: z.string(),
  data: z.object({ room: RoomName, event: RoomEvent }),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/**
 * Where a delivery stands: waiting for its (next) try, delivered (a 2xx), waiting for a retry
 * after a failure, given up (the schedule is spent: in the dead-letter queue), or skipped
 * because its endpoint was disabled. A replay puts it back to `pending`.
 */
export const DeliveryStatus = z.enum(["pending", "delivered", "retrying", "dead", "skipped"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const DeliveryAttempt = z.object({
  at: z.number(),
  /** The receiver's HTTP status, or null when there was no answer. */
  status: z.number().int().nullable(),
  /** Why it failed without a status: `timeout`, `network`, `redirect`, `refused` (the URL guard). */
  error: z.string().nullable(),
  durationMs: z.number().int(),
  /** The first 1 KiB of the receiver's answer. */
  response: z.string(),
});

export const Delivery = z.object({
  id: DeliveryId,
  webhookId: WebhookId,
  /** The Standard Webhooks `webhook-id`: the same on every retry and replay of this delivery. */
  messageId: z.string(),
  eventType: EventTypeName,
  room: RoomName,
  seq: Seq,
  status: DeliveryStatus,
  createdAt: z.number(),
  updatedAt: z.number(),
  /** When the queue will try again (`retrying`). */
  nextAttemptAt: z.number().nullable(),
  attempts: z.array(DeliveryAttempt),
});
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryPage = z.object({
  deliveries: z.array(Delivery),
  /** Pass as `before` for the next (older) page; null at the end. */
  nextBefore: z.string().nullable(),
});

export const DeliveryQuery = z.object({
  status: DeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** The previous page's `nextBefore`. */
  before: z
    .string()
    .regex(/^\d{1,16}\.\d{1,16}\.dlv_[0-9a-f]{24}$/, "before is a page's nextBefore")
    .optional(),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuery>;

/**
 * Incoming webhooks (docs/integrations.md): a secret URL per hook that posts Slack-compatible
 * bodies into its room as a bot of the hook's name.
 */
export const IncomingHookId = z
  .string()
  .regex(/^ih_[0-9a-f]{24}$/, "an incoming webhook id is ih_ and 24 hex");
/** Incoming webhooks per room. */
export const MAX_INCOMING_HOOKS = 20;

/** The name its messages show (Slack's `username` overrides it per message). */
export const BotName = z
  .string()
  .trim()
  .min(1, "a name is 1 to 80 characters")
  .max(80, "a name is 1 to 80 characters")
  .refine((s) => s.isWellFormed(), "a name is not valid Unicode (a lone surrogate)");

export const IncomingHook = z.object({
  id: IncomingHookId,
  room: RoomName,
  name: BotName,
  /** The bot its messages come from: a service id of its own, never anyone else's. */
  botId: z.string(),
  createdBy: UserRef,
  createdAt: z.number(),
  revokedAt: z.number().nullable(),
  /** Updated at most once a minute. */
  lastUsedAt: z.number().nullable(),
});
export type IncomingHook = z.infer<typeof IncomingHook>;

export const IncomingHookList = z.object({ hooks: z.array(IncomingHook) });
export const CreateIncomingHook = z.object({ name: BotName }).strict();
/** The answer that creates a hook: the only one that holds its URL, secret included. */
export const IssuedIncomingHook = z.object({ hook: IncomingHook, url: z.string() });
export type IssuedIncomingHook = z.infer<typeof IssuedIncomingHook>;
