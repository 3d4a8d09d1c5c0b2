import { MessageType } from "graphql-ws";
import { Repeater } from "graphql-yoga";
import { USER_HEADER, type Actor } from "../identity/actor.ts";
import {
  ApiError,
  CLOSE,
  ErrorBody,
  GRAPHQL_SUBPROTOCOL,
  type RoomEvent,
} from "../protocol/index.ts";

// A room's events as a stream for the worker's own streaming answers (GraphQL over SSE, the RPC
// WatchRoom): the worker subscribes on the room's GraphQL socket (docs/graphql.md), so that the
// room serves every live reader one way and hibernates between events.

/** Every field of an event: what the room sends the worker, which then selects for the client. */
export const EVERY_FIELD = `subscription ($room: String!, $since: Int) {
  roomEvents(room: $room, since: $since) { seq id type at actor { id name } data hash prevHash redacted }
}`;

/**
 * The room's events after `since` (all live ones without it) for `actor`, until the consumer
 * stops: a refusal at the upgrade or in the subscription is the contract's error, and the room
 * closing the socket ends the stream with the error its close code says.
 */
export async function roomEventStream(
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
