import { MessageType } from "graphql-ws";
import { Repeater } from "graphql-yoga";
import { parseOr400 } from "../http/openapi.ts";
import { USER_HEADER, type Actor } from "../identity/actor.ts";
import {
  ApiError,
  CLOSE,
  ErrorBody,
  GRAPHQL_SUBPROTOCOL,
  RoomParam,
  WsQuery,
  type RoomEvent,
} from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { asQuery } from "./input.ts";
import { EventRef } from "./messages.ts";

builder.subscriptionType({});

builder.subscriptionField("roomEvents", (t) =>
  t.field({
    type: EventRef,
    description:
      "The room's events as they are committed, after those since `since` (a seq) when given: exact resume, as on the chat socket. Over graphql-transport-ws at /api/rooms/{room}/graphql, or over SSE at /graphql.",
    args: { room: t.arg.string({ required: true }), since: t.arg.int() },
    subscribe: async (_, args, ctx) => {
      const { room } = parseOr400(RoomParam, { room: args.room });
      const { since } = asQuery(WsQuery, { since: args.since });
      return roomEventStream(ctx.hono.env, room, since, await ctx.actor());
    },
    resolve: (event) => event,
  }),
);

/** Every field of an event: what the room sends the worker, which then selects for the client. */
export const EVERY_FIELD = `subscription ($room: String!, $since: Int) {
  roomEvents(room: $room, since: $since) { seq id type at actor { id name } data hash prevHash redacted }
}`;

/**
 * The room's events for SSE at /graphql: the worker subscribes on the room's own GraphQL socket
 * (so that the room serves both transports one way, and hibernates between events) and relays
 * what arrives until the client goes away. A refusal at the upgrade is the contract's error.
 */
async function roomEventStream(
  env: Env,
  room: string,
  since: number | undefined,
  actor: Actor,
): Promise<AsyncIterable<RoomEvent>> {
  const headers = new Headers({
    upgrade: "websocket",
    "sec-websocket-protocol": GRAPHQL_SUBPROTOCOL,
    [USER_HEADER]: JSON.stringify(actor),
  });
  const answer = await env.ROOM.getByName(room).fetch(`https://room/${room}/graphql`, { headers });
  const ws = answer.webSocket;
  if (!ws) throw refusalOf(await answer.json().catch(() => undefined));
  ws.accept();
  ws.send(JSON.stringify({ type: MessageType.ConnectionInit }));
  return new Repeater<RoomEvent>(async (push, stop) => {
    ws.addEventListener("message", ({ data }) => {
      const message = JSON.parse(String(data)) as Relayed;
      if (message.type === MessageType.ConnectionAck) {
        const variables = { room, since };
        const payload = { query: EVERY_FIELD, variables };
        ws.send(JSON.stringify({ id: "1", type: MessageType.Subscribe, payload }));
      } else if (message.type === MessageType.Next) {
        void push(message.payload.data.roomEvents);
      } else if (message.type === MessageType.Error) {
        const [first] = message.payload;
        stop(refusalOf({ error: { code: first?.extensions?.code, message: first?.message } }));
      }
    });
    ws.addEventListener("close", ({ code, reason }) => stop(closedWith(code, reason)));
    await stop;
    ws.close(1000, "done");
  });
}

/** What the room's socket sends the worker, in the parts read here. */
type Relayed =
  | { type: "connection_ack" | "pong" | "complete" }
  | { type: "next"; payload: { data: { roomEvents: RoomEvent } } }
  | { type: "error"; payload: { message: string; extensions?: { code?: unknown } }[] };

/** Why the room closed the stream, as the contract says it: the chat socket's close codes. */
function closedWith(code: number, reason: string): ApiError | undefined {
  if (code === 1000) return undefined;
  if (code === CLOSE.tokenRevoked) return new ApiError("unauthorized", reason);
  if (code === CLOSE.removed) return new ApiError("forbidden", reason);
  return new ApiError(
    "unavailable",
    reason || "the room closed the stream: subscribe again with since",
  );
}

function refusalOf(body: unknown): ApiError {
  const parsed = ErrorBody.safeParse(body);
  if (!parsed.success) return new ApiError("internal", "the room refused the stream");
  return new ApiError(parsed.data.error.code, parsed.data.error.message);
}
