import { CursorOutbox } from "../cursor-outbox.ts";
import {
  intoSendBatches,
  packRoomEvents,
  type RoomEventsMessage,
} from "../integrations/queue-messages.ts";
import type { EventType, RoomEvent, WebhookEventTypes } from "../protocol/index.ts";
import type { EventLog } from "./log.ts";

/** How long after a commit the feed runs, so that a burst goes in one message. */
export const FEED_DELAY_MS = 100;
/** How long the instance's wanted types are trusted before the room asks again. */
export const INSTANCE_TYPES_TTL_MS = 30_000;

type Wanted = WebhookEventTypes | [];
type QueueMessage = RoomEventsMessage;

/** What the feed talks to: the queue, and the instance hub's wanted types. */
export type FeedPorts = {
  send(messages: { body: QueueMessage }[]): Promise<void>;
  instanceTypes(): Promise<Wanted>;
};

/**
 * The room's feed of committed events to the integrations' queue (docs/integrations.md): a
 * cursor into the log, like the flush to Postgres, so that nothing is lost while the queue is
 * away and a crash between a send and the cursor's write only sends again (the hubs dedupe).
 * Only the types some endpoint wants go: the room's own endpoints' (its hub tells it, kept in
 * `integration_types`), and the instance's (asked at most every 30 s). A room no integration
 * wants sends nothing, and its cursor moves on at the next run.
 */
export class IntegrationFeed {
  readonly #sql: SqlStorage;
  readonly #ports: FeedPorts;
  readonly #outbox: CursorOutbox<RoomEvent>;
  #roomTypes: Wanted;
  #instance: { types: Wanted; at: number } | undefined;

  constructor(sql: SqlStorage, log: EventLog, room: () => string, ports: FeedPorts) {
    this.#sql = sql;
    this.#ports = ports;
    this.#roomTypes = JSON.parse(
      sql.exec<{ types: string }>("SELECT types FROM integration_types").one().types,
    ) as Wanted;
    this.#outbox = new CursorOutbox(
      sql,
      {
        name: () => `room ${room()} (integrations)`,
        read: (after, limit) => log.range(after, limit),
        lastSeq: () => log.lastSeq,
        write: (batch) => this.#send(room(), batch),
      },
      "integration_outbox",
    );
  }

  /** The room's hub changed what its endpoints want. */
  setRoomTypes(types: Wanted): void {
    this.#roomTypes = types;
    this.#sql.exec("UPDATE integration_types SET types = ?", JSON.stringify(types));
  }

  /** Whether committed `events` call for a run: one is wanted, or the instance's answer is old. */
  wants(events: readonly RoomEvent[], now: number): boolean {
    if (!this.#instance || now - this.#instance.at > INSTANCE_TYPES_TTL_MS) return true;
    const wanted = this.#wanted();
    return events.some((event) => wanted(event.type));
  }

  /** One batch onto the queue; returns when to run again, or undefined. */
  async run(now: number): Promise<number | undefined> {
    if (!this.#instance || now - this.#instance.at > INSTANCE_TYPES_TTL_MS)
      this.#instance = { types: await this.#ports.instanceTypes(), at: now };
    return this.#outbox.flush(now);
  }

  async #send(room: string, batch: readonly RoomEvent[]): Promise<number> {
    const wanted = this.#wanted();
    const events = batch.filter((event) => wanted(event.type));
    const hubs = this.#hubs();
    if (events.length > 0 && hubs.length > 0)
      for (const messages of intoSendBatches(packRoomEvents(room, hubs, events)))
        await this.#ports.send(messages.map((body) => ({ body })));
    return batch.at(-1)!.seq;
  }

  /** The hubs with an endpoint that wants anything: the consumer asks no other. */
  #hubs(): RoomEventsMessage["hubs"] {
    const wants = (types: Wanted) => types === "*" || types.length > 0;
    return [
      ...(wants(this.#roomTypes) ? (["room"] as const) : []),
      ...(wants(this.#instance?.types ?? []) ? (["instance"] as const) : []),
    ];
  }

  /**
   * The union of the room's and the instance's wanted types; redactions too whenever anything
   * is wanted, so that the delivery log's kept bodies lose a redacted text as the log does.
   */
  #wanted(): (type: EventType) => boolean {
    const lists = [this.#roomTypes, this.#instance?.types ?? []];
    if (lists.some((types) => types === "*")) return () => true;
    const set = new Set(lists.flat() as EventType[]);
    if (set.size > 0) set.add("message.redacted");
    return (type) => set.has(type);
  }
}
