import { MessageType, parseMessage, type Message } from "graphql-ws";
import * as z from "zod";
import { LIMITS, type Refusal, type Result, type RoomEvent } from "../protocol/index.ts";
import { Actor } from "../identity/actor.ts";

// The pure part of a room's GraphQL sockets (graphql-sockets.ts): the limits, what a socket
// keeps, how a client's messages are read and the room's written, and what a resuming
// subscription is replayed.

/** How long a socket may take to send `connection_init` (graphql-ws's own default). */
export const INIT_TIMEOUT_MS = 3000;
/** Subscriptions one socket may hold: each is rendered for every event. */
export const MAX_SUBSCRIPTIONS = 10;
/**
 * What a socket's subscriptions may take in its attachment, which the runtime keeps across
 * hibernation and caps (measured: 16 KiB in workerd); the rest is left for who is on it.
 */
export const MAX_SUBSCRIPTION_BYTES = 12 * 1024;

export const Subscription = z.object({
  query: z.string(),
  operationName: z.string().nullish(),
  variables: z.record(z.string(), z.unknown()).nullish(),
});
export type Subscription = z.infer<typeof Subscription>;

/** What a GraphQL socket remembers across hibernation. */
export const LiveAttachment = z.object({
  connId: z.string(),
  /** Known from the upgrade (a verified token) or after `connection_init`. */
  user: Actor.optional(),
  openedAt: z.number(),
  init: z.boolean(),
  acked: z.boolean(),
  subscriptions: z.record(z.string(), Subscription),
});
export type LiveAttachment = z.infer<typeof LiveAttachment>;

const encoder = new TextEncoder();
/** A value's bytes as JSON: about what its structured clone takes in the attachment. */
export const bytesOf = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

/** An `error` message for subscription `id`: one error with the contract's `code`. */
export const errorMessage = (id: string, code: Refusal["code"], message: string) =>
  JSON.stringify({ id, type: MessageType.Error, payload: [{ message, extensions: { code } }] });

/** `connection_init`'s payload as the room reads it: the bearer token. */
export const ConnectionParams = z.object({
  authorization: z
    .string()
    .transform((value) => /^Bearer (\S+)$/i.exec(value)?.[1])
    .optional(),
});

export const unauthorized = (message: string) =>
  ({ ok: false, error: { code: "unauthorized", message } }) as const;

/** A `next` message around a payload already rendered as JSON text. */
export const nextMessage = (id: string, payload: string) =>
  `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;

/** A client's message, or why it is not one (the socket closes with 4400 and that reason). */
export function parsed(data: string | ArrayBuffer): Message | string {
  if (typeof data !== "string") return "messages are JSON text, not binary";
  if (data.length > LIMITS.frameBytes) return `a message is at most ${LIMITS.frameBytes} bytes`;
  try {
    return parseMessage(data);
  } catch (error) {
    // graphql-ws's messages name what is wrong; close reasons are at most 123 bytes.
    return (error instanceof Error ? error.message : "invalid message").slice(0, 120);
  }
}

/**
 * The events a subscription resuming after `since` missed (`lastSeq` is the room's): at most
 * LIMITS.resumeMax, as the chat socket replays; further back is a `conflict` that says how to
 * catch up, rather than a silent gap.
 */
export function missedSince(
  since: number,
  lastSeq: number,
  range: (after: number, limit: number) => RoomEvent[],
): Result<readonly RoomEvent[]> {
  if (since >= lastSeq) return { ok: true, value: [] };
  const behind = lastSeq - since;
  if (behind <= LIMITS.resumeMax) return { ok: true, value: range(since, LIMITS.resumeMax) };
  const message = `since is ${behind} events back (at most ${LIMITS.resumeMax}): page Room.events(after: "${since}") and subscribe from the last seq read`;
  return { ok: false, error: { code: "conflict", message } };
}
