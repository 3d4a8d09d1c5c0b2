import * as z from "zod";
import { RoomEvent, type EventType, EventData } from "./events.ts";
import { ClientId, MessageText, RoomName, Seq, UserRef, Username } from "./names.ts";
import { isBuiltinName, SLASH_NAME } from "./slash-commands.ts";
import { IncomingHookId, WebhookId } from "./integration-ids.ts";

/**
 * Additions: the wire types of integrations (docs/integrations.md). Outgoing webhooks belong to
 * a room (its owner manages them) or to the instance (admins); both have the same shape.
 */

export const EVENT_TYPES = Object.keys(EventData) as [EventType, ...EventType[]];
export const EventTypeName = z.enum(EVENT_TYPES, {
  error: () => `an event type is one of ${EVENT_TYPES.join(", ")}`,
});

export { IncomingHookId, WebhookId } from "./integration-ids.ts";
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
  /** The event's type, or `automation.fired` for a rule's webhook action (docs/automation.md). */
  eventType: z.union([EventTypeName, z.literal("automation.fired")]),
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

// ---- Slash commands (docs/integrations.md, "Slash commands") ----------------------------------

/** Custom slash commands per room. */
export const MAX_SLASH_COMMANDS = 25;

/** A custom command's name: Slack's rule, and never one of the built-ins. */
export const SlashCommandName = z
  .string()
  .regex(SLASH_NAME, "a command name is 1-32 of a-z, 0-9, _ and -")
  .refine((name) => !isBuiltinName(name), "that name is a built-in command");

const SlashText = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is at most ${max} characters`)
    .refine((s) => s.isWellFormed(), `${what} is not valid Unicode (a lone surrogate)`);

/** A custom command as its room's owner sees it: never its signing secret or token. */
export const CustomSlashCommand = z.object({
  name: z.string(),
  url: z.string(),
  description: z.string(),
  /** What follows the name, shown as the hint while typing (`status|deploy <branch>`). */
  usageHint: z.string(),
  /** The service actor its in-channel answers are posted as (`svc_…`, the bot badge). */
  bot: UserRef,
  createdBy: UserRef,
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type CustomSlashCommand = z.infer<typeof CustomSlashCommand>;

export const CustomSlashCommandList = z.object({ commands: z.array(CustomSlashCommand) });

export const CreateSlashCommand = z
  .object({
    name: SlashCommandName,
    url: z.string().max(MAX_WEBHOOK_URL, `a URL is at most ${MAX_WEBHOOK_URL} characters`),
    description: SlashText("a description", 200).default(""),
    usageHint: SlashText("a usage hint", 100).default(""),
    /** The name its answers are posted under; the command's name when absent. */
    botName: Username.optional(),
  })
  .strict();
export type CreateSlashCommand = z.infer<typeof CreateSlashCommand>;

export const UpdateSlashCommand = z
  .object({
    url: CreateSlashCommand.shape.url.optional(),
    description: SlashText("a description", 200).optional(),
    usageHint: SlashText("a usage hint", 100).optional(),
    /** null: back to the command's name. */
    botName: Username.nullable().optional(),
  })
  .strict();
export type UpdateSlashCommand = z.infer<typeof UpdateSlashCommand>;

/**
 * The answer that creates a command: the only one holding its secrets. `signingSecret` keys
 * `X-Slack-Signature`; `verificationToken` is the `token` form field (Slack's legacy check).
 */
export const IssuedSlashCommand = z.object({
  command: CustomSlashCommand,
  signingSecret: z.string(),
  verificationToken: z.string(),
});

/** A command for completion: built-ins the caller may use, then the room's custom ones. */
export const SlashCommandEntry = z.object({
  name: z.string(),
  usage: z.string(),
  description: z.string(),
  kind: z.enum(["builtin", "custom"]),
});
export const SlashCommandEntries = z.object({ commands: z.array(SlashCommandEntry) });

/**
 * POST /api/rooms/{room}/slash: the text as typed (`/deploy status`) and an idempotency key;
 * `timeZone`, the caller's IANA zone (the browser's), reads the times `/remind` is given
 * (docs/automation.md): UTC without it. Checked where it is used, so that an unknown zone fails
 * only a `/remind` that needs one.
 */
export const RunSlashCommand = z
  .object({ text: MessageText, clientId: ClientId, timeZone: z.string().min(1).max(64).optional() })
  .strict();

/**
 * What running a command did: a built-in's room command (its seq), an in-channel answer posted
 * as the command's bot, an answer only the caller sees, or an empty 200 from the command's
 * server (its answer may come later through its response_url).
 */
export const SlashResult = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("command"), seq: Seq }),
  z.object({ kind: z.literal("posted"), seq: Seq }),
  z.object({ kind: z.literal("ephemeral"), text: z.string() }),
  z.object({ kind: z.literal("accepted") }),
]);
export type SlashResult = z.infer<typeof SlashResult>;

/**
 * A follow-up to a response_url, as Slack's: `text`, `blocks` and `attachments` become the text
 * (as an incoming webhook's do), `response_type` says who sees it. `replace_original` and
 * `delete_original` are read and do not edit anything: docs/integrations.md.
 */
export const SlashResponseBody = z.looseObject({
  response_type: z.enum(["in_channel", "ephemeral"]).nullish(),
  replace_original: z.union([z.boolean(), z.enum(["true", "false"])]).nullish(),
  delete_original: z.union([z.boolean(), z.enum(["true", "false"])]).nullish(),
});

export const SlashResponseAccepted = z.object({ ok: z.literal(true) });
/**
 * Incoming webhooks (docs/integrations.md): a secret URL per hook that posts Slack-compatible
 * bodies into its room as a bot of the hook's name.
 */
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
