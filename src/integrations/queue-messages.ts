import * as z from "zod";
import { DeliveryId, RoomEvent, RoomName } from "../protocol/index.ts";
import { SlackInbound } from "./slack-events.ts";

/**
 * What travels on the `INTEGRATIONS` queue (docs/integrations.md), one schema per kind: the
 * consumer parses each message and drops (with a log line) what does not parse.
 */

/** Which hub an endpoint belongs to: a room's, or the instance's. */
export const HubName = z.union([z.literal("instance"), z.string().regex(/^room:/)]);
export type HubName = z.infer<typeof HubName>;
export const INSTANCE_HUB: HubName = "instance";
export const roomHub = (room: string): HubName => `room:${room}`;

/** A room's committed events that some integration wants, in seq order, for the hubs named. */
export const RoomEventsMessage = z.object({
  kind: z.literal("room-events"),
  room: RoomName,
  /** The room's hub, the instance's, or both: only those with an endpoint that wants events. */
  hubs: z.array(z.enum(["room", "instance"])).min(1),
  events: z.array(RoomEvent).min(1),
});
export type RoomEventsMessage = z.infer<typeof RoomEventsMessage>;

/** One try of one webhook delivery, kept in `hub`'s delivery log. */
export const DeliveryMessage = z.object({
  kind: z.literal("delivery"),
  hub: HubName,
  deliveryId: DeliveryId,
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** A change in a Slack channel, acknowledged to Slack and carried out from here (the bridge). */
export const SlackInMessage = z.object({ kind: z.literal("slack-in"), inbound: SlackInbound });
export type SlackInMessage = z.infer<typeof SlackInMessage>;

/** A linked room's message event, for its hub to carry to Slack (chat.postMessage, …). */
export const SlackOutMessage = z.object({
  kind: z.literal("slack-out"),
  room: RoomName,
  event: RoomEvent,
});
export type SlackOutMessage = z.infer<typeof SlackOutMessage>;

export const IntegrationMessage = z.discriminatedUnion("kind", [
  RoomEventsMessage,
  DeliveryMessage,
  SlackInMessage,
  SlackOutMessage,
]);
export type IntegrationMessage = z.infer<typeof IntegrationMessage>;

/** Queues' limit on one message, with room to spare for the envelope. */
export const MAX_MESSAGE_BYTES = 100_000;
/** Queues' limits on one `sendBatch`: messages and bytes. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 250_000;

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/**
 * A room's events packed into as few `room-events` messages as fit Queues' size limit, in order.
 * An event bigger than a message alone (it cannot be: a message's text is at most 16 KB) would
 * still go, alone.
 */
export function packRoomEvents(
  room: string,
  hubs: RoomEventsMessage["hubs"],
  events: readonly RoomEvent[],
) {
  const messages: RoomEventsMessage[] = [];
  let current: RoomEvent[] = [];
  let size = 0;
  for (const event of events) {
    const eventBytes = bytes(event) + 1;
    if (current.length > 0 && size + eventBytes > MAX_MESSAGE_BYTES) {
      messages.push({ kind: "room-events", room, hubs, events: current });
      current = [];
      size = 0;
    }
    current.push(event);
    size += eventBytes;
  }
  if (current.length > 0) messages.push({ kind: "room-events", room, hubs, events: current });
  return messages;
}

/** Messages split into `sendBatch` calls that fit Queues' count and size limits. */
export function intoSendBatches<T>(messages: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const message of messages) {
    const messageBytes = bytes(message);
    if (
      current.length === MAX_BATCH_MESSAGES ||
      (current.length > 0 && size + messageBytes > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += messageBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
