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
 * Events a stream may hold for a consumer that has not taken them before it is ended with
 * `unavailable` (the consumer resumes with `since`), as a chat socket that far behind is cut off
 * with 4408 (docs/protocol.md): the room does not wait, and nothing else bounds the backlog.
 */
export const STREAM_BACKLOG = 1000;

/**
 * The room's events after `since` (all live ones without it) for `actor`, until the consumer
 * stops: a refusal at the upgrade or in the subscription is the contract's error, the room
 * closing the socket ends the stream with the error its close code says, and a consumer more
 * than `backlog` events behind is told to resume (`unavailable`).
 */
export async function roomEventStream(
  env: Env,
  room: string,
  since: number | undefined,
  actor: Actor,
  backlog = STREAM_BACKLOG,
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
  // The repeater starts when the consumer first asks: only then are the socket's messages
  // listened to, and only then is the room asked for anything, so that none is missed.
  return new Repeater<RoomEvent>(async (push, stop) => {
    let waiting = 0;
    ws.addEventListener("message", ({ data }) => {
      const message = JSON.parse(String(data)) as Relayed;
      if (message.type === MessageType.ConnectionAck) {
        const variables = { room, since };
        const payload = { query: EVERY_FIELD, variables };
        ws.send(JSON.stringify({ id: "1", type: MessageType.Subscribe, payload }));
      } else if (message.type === MessageType.Next) {
        if (waiting >= backlog) return stop(tooFarBehind(message.payload.data.roomEvents.seq));
        waiting += 1;
        void push(message.payload.data.roomEvents).then(() => (waiting -= 1));
      } else if (message.type === MessageType.Error) {
        const [first] = message.payload;
        stop(refusalOf({ error: { code: first?.extensions?.code, message: first?.message } }));
      }
    });
    ws.addEventListener("close", ({ code, reason }) => stop(closedWith(code, reason)));
    ws.send(JSON.stringify({ type: MessageType.ConnectionInit }));
    await stop;
    ws.close(1000, "done");
  });
}

const tooFarBehind = (seq: number) =>
  new ApiError(
    "unavailable",
    `too far behind the room (at seq ${seq}): subscribe again with since, the last seq you have`,
  );

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
