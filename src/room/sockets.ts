import * as z from "zod";
import {
  CLOSE,
  ERROR_STATUS,
  type Refusal,
  type RoomEvent,
  type ServerFrame,
  type UserRef,
} from "../protocol/index.ts";
import { Actor } from "../identity/actor.ts";
import { DeliveryLag } from "./delivery-lag.ts";

/**
 * What a socket remembers across hibernation: who is on it, and whether it speaks
 * edgechat.v1.batch (acks and events of one turn in one frame).
 */
export const Attachment = z.object({
  user: Actor,
  connId: z.string(),
  // Sockets accepted before batches existed speak plain v1.
  batch: z.boolean().default(false),
  /** The id of the upgrade request that opened it: its commands' log lines carry it. */
  requestId: z.string().max(128).optional(),
});
export type Attachment = z.infer<typeof Attachment>;

// Parsed once per socket object; after hibernation the runtime hands out new objects, so
// the cache never outlives the attachment it was read from.
const parsedAttachments = new WeakMap<WebSocket, Attachment>();

export function attachmentOf(ws: WebSocket): Attachment | undefined {
  const cached = parsedAttachments.get(ws);
  if (cached) return cached;
  const parsed = Attachment.safeParse(ws.deserializeAttachment());
  if (parsed.success) parsedAttachments.set(ws, parsed.data);
  return parsed.success ? parsed.data : undefined;
}

/** An upgrade refused before the socket exists: the contract's error body and status. */
export const refusedUpgrade = (error: Refusal) =>
  Response.json({ error }, { status: ERROR_STATUS[error.code] });

/** Sends one frame; a socket that closed meanwhile is not an error worth surfacing. */
export function send(ws: WebSocket, frame: ServerFrame | string): void {
  try {
    ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  } catch {
    // The close handler will clean up after it.
  }
}

/** Closes with a code from the contract; workerd throws on reserved codes and on closed sockets. */
export function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/**
 * How far behind what was sent to it a socket may fall before it counts as a slow consumer and
 * is cut off (4408), by default (ROOM_SLOW_CONSUMER_EVENTS): many seconds of the busiest room.
 * The runtime buffers a socket's unsent frames without bound and reports no `bufferedAmount` for
 * them (measured: 24 MB sent to a client that had stopped reading never raised it past 100 KB),
 * so a client says what it has received (`received` frames, sent by the SDK on
 * edgechat.v1.batch) and the room compares.
 */
export const SLOW_CONSUMER_EVENTS = 5000;

/** The tag of every chat socket, so that a room's other sockets (GraphQL's) never get chat frames. */
export const CHAT_TAG = "chat";

/** The last seq sent to a socket and the last it said it received; memory only. */
type Progress = { sent: number; received: number };

/** One frame as it goes out: alone, or several in a batch frame (texts already serialized). */
function batchText(frames: readonly string[]): string {
  return frames.length === 1 ? frames[0]! : `{"type":"batch","frames":[${frames.join(",")}]}`;
}

/** The distinct users behind `sockets`, in connection order. */
export function onlineUsers(sockets: readonly WebSocket[]): UserRef[] {
  const users = new Map<string, UserRef>();
  for (const ws of sockets) {
    const attachment = attachmentOf(ws);
    if (attachment && !users.has(attachment.user.id)) {
      users.set(attachment.user.id, { id: attachment.user.id, name: attachment.user.name });
    }
  }
  return [...users.values()];
}

/**
 * The room's open sockets through the hibernation API: each tagged with its user's id, with
 * who is on it in the attachment, so that all of it survives the object being evicted.
 */
export class Connections {
  readonly #ctx: DurableObjectState;
  // Keyed by the socket object: hibernation hands out new ones, which start afresh (forgiving).
  readonly #progress = new WeakMap<WebSocket, Progress>();
  readonly #slowConsumerEvents: number;
  /** How late events reach the batch clients, from their reports: for admission. */
  readonly lag: DeliveryLag;
  /** `arrived`: told each client-reported delay from an event leaving to its arrival (ms). */
  constructor(
    ctx: DurableObjectState,
    slowConsumerEvents = SLOW_CONSUMER_EVENTS,
    arrived?: (lagMs: number) => void,
  ) {
    this.#ctx = ctx;
    this.#slowConsumerEvents = slowConsumerEvents;
    this.lag = new DeliveryLag(arrived);
  }

  accept(server: WebSocket, user: Actor, batch: boolean, requestId?: string | null): void {
    this.#ctx.acceptWebSocket(server, [user.id, CHAT_TAG]);
    const attachment: Attachment = { user, connId: crypto.randomUUID(), batch };
    if (requestId) attachment.requestId = requestId.slice(0, 128);
    server.serializeAttachment(attachment);
  }

  of(userId: string): WebSocket[] {
    return this.#ctx.getWebSockets(userId);
  }

  online(): UserRef[] {
    return onlineUsers(this.#ctx.getWebSockets(CHAT_TAG));
  }

  /** One serialization, every socket (but `except`). */
  broadcast(frame: ServerFrame | string, except?: WebSocket): void {
    const text = typeof frame === "string" ? frame : JSON.stringify(frame);
    for (const ws of this.#ctx.getWebSockets(CHAT_TAG)) if (ws !== except) send(ws, text);
  }

  /**
   * Sends what one commit produced: each event serialized once, for every socket; a socket's
   * own acks first. On edgechat.v1.batch they leave as one frame (events alone share one text
   * across sockets); on v1, one frame each. A batch socket that fell SLOW_CONSUMER_EVENTS behind
   * is cut off (4408) rather than buffered without end: it resumes with `since`. Answers how
   * many events it sent (one event on one socket counts one).
   */
  deliver(
    events: readonly RoomEvent[],
    acks: ReadonlyMap<WebSocket, readonly string[]> = new Map(),
    hasUpTo?: (ws: WebSocket) => number | undefined,
  ): number {
    if (events.length === 0 && acks.size === 0) return 0;
    let sent = 0;
    if (events.length > 0) this.lag.sent(events.at(-1)!.seq, Date.now());
    const eventTexts = events.map((event) => JSON.stringify({ type: "event", event }));
    const shared = eventTexts.length > 0 ? batchText(eventTexts) : undefined;
    for (const ws of this.#ctx.getWebSockets(CHAT_TAG)) {
      // A socket that already has some of these (a shard's newly greeted one) gets the rest.
      const upTo = hasUpTo?.(ws);
      const skip = upTo === undefined ? 0 : events.findIndex((e) => e.seq > upTo);
      const texts = skip === 0 ? eventTexts : skip < 0 ? [] : eventTexts.slice(skip);
      const own = acks.get(ws) ?? [];
      if (own.length === 0 && texts.length === 0) continue;
      sent += texts.length;
      if (!attachmentOf(ws)?.batch) {
        for (const text of own) send(ws, text);
        for (const text of texts) send(ws, text);
        continue;
      }
      const first = events.at(-texts.length)?.seq;
      if (texts.length > 0 && this.#fellBehind(ws, first!, events.at(-1)!.seq)) {
        close(ws, CLOSE.slowConsumer, "too far behind: reconnect with since");
        sent -= texts.length;
        continue;
      }
      send(ws, own.length === 0 && texts === eventTexts ? shared! : batchText([...own, ...texts]));
    }
    return sent;
  }

  /** A client's `received` report. */
  received(ws: WebSocket, seq: number, now: number): void {
    const progress = this.#progress.get(ws);
    if (!progress) return;
    progress.received = Math.max(progress.received, Math.min(seq, progress.sent));
    const connId = attachmentOf(ws)?.connId;
    if (connId) this.lag.reported(connId, progress.received, now);
  }

  /** Notes that seqs up to `last` go to `ws`; whether it is now too far behind to go on. */
  #fellBehind(ws: WebSocket, first: number, last: number): boolean {
    const progress = this.#progress.get(ws) ?? { sent: first - 1, received: first - 1 };
    progress.sent = last;
    this.#progress.set(ws, progress);
    return progress.sent - progress.received > this.#slowConsumerEvents;
  }

  /** Closes `userId`'s sockets whose attachment passes `which`; returns how many. */
  closeUser(
    userId: string,
    code: number,
    reason: string,
    which: (a: Attachment) => boolean = () => true,
  ): number {
    let closed = 0;
    for (const ws of this.of(userId)) {
      const attachment = attachmentOf(ws);
      if (!attachment || !which(attachment)) continue;
      close(ws, code, reason);
      closed += 1;
    }
    return closed;
  }
}
