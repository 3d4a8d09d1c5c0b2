import {
  DeliveryStatus,
  EVENT_TYPES,
  ROTATION_OVERLAP_MAX_SECONDS,
  type Delivery,
  type EventType,
  type Webhook,
  type WebhookEventTypes,
} from "../../client/index.ts";
import { OVERLAPS } from "../admin/service-parts.ts";
import { agoText, msText } from "../admin/overview-data.ts";

/**
 * The webhook screens' words and rules (webhooks-panel.ts, delivery-log.ts), pure so that unit
 * tests read them without a browser.
 */

/** The filter's choices: every delivery, or those in one status. */
export const DELIVERY_STATUSES = DeliveryStatus.options;

/** Rotation overlaps offered: the service keys' choices the webhooks' limit (7 days) allows. */
export const WEBHOOK_OVERLAPS = OVERLAPS.filter(([s]) => s <= ROTATION_OVERLAP_MAX_SECONDS);
export const DEFAULT_OVERLAP = 86_400;

const GROUP_TITLES: Record<string, string> = {
  message: "Messages",
  reaction: "Reactions",
  member: "Members",
  room: "Room",
  rule: "Rules",
  plugin: "Plugins",
};

/**
 * The event types in groups by their first word (`message.posted` is a Message event), in the
 * protocol's order; a type of a new kind gets a group of its own, titled by that word.
 */
export function eventTypeGroups(
  types: readonly EventType[] = EVENT_TYPES,
): { title: string; types: EventType[] }[] {
  const groups = new Map<string, EventType[]>();
  for (const type of types) {
    const kind = type.split(".")[0]!;
    groups.set(kind, [...(groups.get(kind) ?? []), type]);
  }
  return [...groups].map(([kind, list]) => ({ title: GROUP_TITLES[kind] ?? kind, types: list }));
}

/** What an endpoint receives, in a few words. */
export function eventTypesText(types: WebhookEventTypes): string {
  return types === "*" ? "all events" : types.join(", ");
}

/** An endpoint's status as its owner reads it; a disabled one says why. */
export function webhookStatusText(webhook: Pick<Webhook, "status" | "disabledReason">): string {
  if (webhook.status === "enabled") return "enabled";
  switch (webhook.disabledReason) {
    case "gone":
      return "disabled: the receiver answered 410 Gone";
    case "failing":
      return "disabled: every try failed for too long";
    case "manual":
      return "disabled by hand";
    default:
      return "disabled";
  }
}

/** Its secrets as hints: the newest, and one that still signs beside it until its end. */
export function secretsText(webhook: Pick<Webhook, "secrets">): string {
  return webhook.secrets
    .map((secret) =>
      secret.expiresAt === null
        ? `${secret.hint}…`
        : `${secret.hint}… (signs until ${new Date(secret.expiresAt).toLocaleString()})`,
    )
    .join(", ");
}

/** When something happened, roughly, or "never". */
export const whenText = agoText;

/** Seconds until `at`, as people read them: "now", "in 4 s", "in 3 min". */
export function inText(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (seconds <= 0) return "now";
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/** A local time to the second: deliveries' tries are often a second apart. */
export const clockText = (at: number) =>
  new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A delivery's status line beyond its badge: the next try, or why it ended as it did. */
export function deliveryDetail(delivery: Delivery, now: number): string {
  const tries = delivery.attempts.length;
  const triesText = `${tries} ${tries === 1 ? "try" : "tries"}`;
  switch (delivery.status) {
    case "pending":
      return tries ? `sending again (${triesText} so far)` : "waiting for its first try";
    case "delivered":
      return tries > 1 ? `delivered after ${triesText}` : "delivered at the first try";
    case "retrying":
      return delivery.nextAttemptAt === null
        ? `failed ${triesText}, retrying`
        : `next try at ${clockText(delivery.nextAttemptAt)} (${inText(delivery.nextAttemptAt, now)})`;
    case "dead":
      return `gave up after ${triesText}: replay it once the receiver works`;
    case "skipped":
      return "not sent: the webhook was disabled";
  }
}

/** A replay is offered for every delivery but one already waiting for its try. */
export const replayable = (status: Delivery["status"]) => status !== "pending";

/** One try as a line: its HTTP status or its error, and how long it took. */
export function attemptText(attempt: Delivery["attempts"][number]): string {
  const outcome =
    attempt.status === null ? (attempt.error ?? "no answer") : `HTTP ${attempt.status}`;
  return `${outcome} · ${msText(attempt.durationMs)}`;
}

/** Whether delivery `a` sorts after `b` in the log (newest first: older, or older id at a tie). */
const olderThan = (a: Delivery, b: Delivery) =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);

/**
 * The log after a refresh. `fresh` is the newest page again, as long as what was shown (up to
 * the API's 100), and `freshNext` its `nextBefore`. When it reaches down to what was shown, it
 * replaces everything shown down to its own oldest delivery (so that one that left the filter
 * goes) and what older pages brought stays below it, with their cursor. When more arrived than
 * it holds, there may be a gap below it: the log starts over from it and its cursor.
 */
export function mergeRefresh(
  shown: { deliveries: readonly Delivery[]; nextBefore: string | null },
  fresh: readonly Delivery[],
  freshNext: string | null,
): { deliveries: Delivery[]; nextBefore: string | null } {
  const oldest = fresh.at(-1);
  const newestShown = shown.deliveries[0];
  const reaches = oldest && newestShown && !olderThan(newestShown, oldest);
  if (freshNext === null || !reaches) return { deliveries: [...fresh], nextBefore: freshNext };
  const kept = shown.deliveries.filter((d) => olderThan(d, oldest));
  return {
    deliveries: [...fresh, ...kept],
    nextBefore: kept.length ? shown.nextBefore : freshNext,
  };
}

/** Whether a delivery's drawing must change: its status, its next try, or a new try. */
export const deliveryChanged = (was: Delivery, now: Delivery) =>
  was.status !== now.status ||
  was.updatedAt !== now.updatedAt ||
  was.nextAttemptAt !== now.nextAttemptAt ||
  was.attempts.length !== now.attempts.length;
