import { accountKey } from "../identity/refresh-token.ts";
import { actorOf, authenticate } from "../http/authenticate.ts";
import { sameOriginOnly } from "../http/origin.ts";
import { ApiError, errorResponse, idsOf } from "../http/api-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import type { Context } from "hono";
import { router } from "../http/openapi.ts";
import {
  ErrorBody,
  chooseSubprotocol,
  GRAPHQL_SUBPROTOCOL,
  offeredSubprotocols,
  RoomName,
  RoomParam,
  WsQuery,
} from "../protocol/index.ts";
import { USER_HEADER } from "../identity/actor.ts";
import { SERVICE_ACCOUNTS_NAME } from "../identity/service-key.ts";
import { traceparentIn } from "../telemetry/tracing.ts";
import { REQUEST_ID_HEADER } from "../telemetry/middleware.ts";

/** The WebSocket upgrade: checked and authenticated here, then handed to the room's object. */
export const roomSocket = router();

roomSocket.openAPIRegistry.registerPath({
  method: "get",
  path: "/api/rooms/{room}/ws",
  summary: "Open the room's WebSocket (protocol: docs/protocol.md)",
  description:
    "Send `Upgrade: websocket` and `Sec-WebSocket-Protocol: edgechat.v1, bearer.<token>` (or an Authorization header). " +
    "`since` resumes after that seq. A bad token is refused with 401 and an unknown room with 404, before the upgrade; " +
    "a user past their open sockets (LIMIT_SOCKETS_PER_ROOM, LIMIT_SOCKETS_PER_USER) with 403 `quota`: the newest socket is the one refused (docs/limits.md).",
  security: [{ bearer: [] }],
  request: { params: RoomParam, query: WsQuery },
  responses: {
    101: { description: "switching protocols; frames as in docs/protocol.md" },
    400: { description: "bad_request", content: { "application/json": { schema: ErrorBody } } },
    401: { description: "unauthorized", content: { "application/json": { schema: ErrorBody } } },
    403: {
      description:
        "forbidden: a foreign Origin, or banned from the room; quota: too many sockets open",
      content: { "application/json": { schema: ErrorBody } },
    },
    404: { description: "not_found", content: { "application/json": { schema: ErrorBody } } },
  },
});

roomSocket.get("/api/rooms/:room/ws", sameOriginOnly, authenticate, async (c) => {
  const room = RoomName.safeParse(c.req.param("room"));
  if (!room.success) throw new ApiError("bad_request", "invalid room name");
  const query = WsQuery.safeParse(c.req.query());
  if (!query.success) throw new ApiError("bad_request", "since: expected a non-negative integer");
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
    throw new ApiError("bad_request", "expected Upgrade: websocket");

  const forward = new URL(`https://room/${room.data}/ws`);
  if (query.data.since !== undefined) forward.searchParams.set("since", String(query.data.since));
  // The object trusts the user the worker verified, and never sees the token itself.
  const headers = new Headers({ upgrade: "websocket", [USER_HEADER]: JSON.stringify(c.var.user) });
  // Select the subprotocol whenever one was offered, also when the token came in an Authorization header.
  const protocol = chooseSubprotocol(c.req.raw.headers);
  if (protocol) headers.set("sec-websocket-protocol", protocol);
  // The room's `room.connect` span joins this request's trace (src/room/telemetry.ts).
  const traceparent = traceparentIn(c.var.telemetry.scope);
  if (traceparent) headers.set("traceparent", traceparent);
  headers.set(REQUEST_ID_HEADER, c.var.telemetry.requestId);
  const user = c.var.user;
  // The account must know of this room before the socket exists, or a sign-out could miss it;
  // a service account likewise, or revoking its key could.
  if (user.kind === "user")
    await c.env.ACCOUNT.getByName(accountKey(user.name)).noteRoom(room.data);
  if (user.kind === "service")
    await c.env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME).noteRoom(user.id, room.data);
  const answer = await c.env.ROOM.getByName(room.data).fetch(new Request(forward, { headers }));
  return passOn(c, answer);
});

roomSocket.openAPIRegistry.registerPath({
  method: "get",
  path: "/api/rooms/{room}/graphql",
  summary: "Open the room's GraphQL socket: roomEvents subscriptions (docs/graphql.md)",
  description:
    "Send `Upgrade: websocket` and `Sec-WebSocket-Protocol: graphql-transport-ws` (the graphql-ws protocol). " +
    "Authenticate like the chat socket (an Authorization header, or `bearer.<token>` offered beside the subprotocol), " +
    'or in `connection_init`\'s payload: `{"authorization": "Bearer <token>"}`. ' +
    "With a token at the upgrade, a bad token is refused with 401 and a room you may not read with 404, before the upgrade; " +
    "with one in connection_init, the socket closes with 4403 and the reason. Subscriptions resume exactly after `since`.",
  security: [{ bearer: [] }, {}],
  request: { params: RoomParam },
  responses: {
    101: { description: "switching protocols; messages as graphql-ws defines them" },
    400: { description: "bad_request", content: { "application/json": { schema: ErrorBody } } },
    401: { description: "unauthorized", content: { "application/json": { schema: ErrorBody } } },
    403: {
      description: "forbidden: a foreign Origin, or banned; quota: too many sockets open",
      content: { "application/json": { schema: ErrorBody } },
    },
    404: { description: "not_found", content: { "application/json": { schema: ErrorBody } } },
  },
});

roomSocket.get("/api/rooms/:room/graphql", sameOriginOnly, async (c) => {
  const room = RoomName.safeParse(c.req.param("room"));
  if (!room.success) throw new ApiError("bad_request", "invalid room name");
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
    throw new ApiError("bad_request", "expected Upgrade: websocket");
  if (!offeredSubprotocols(c.req.raw.headers).includes(GRAPHQL_SUBPROTOCOL))
    throw new ApiError("bad_request", `offer the ${GRAPHQL_SUBPROTOCOL} subprotocol`);
  const headers = new Headers({
    upgrade: "websocket",
    "sec-websocket-protocol": GRAPHQL_SUBPROTOCOL,
  });
  // Without a token here, the room waits for one in connection_init (browsers cannot set headers).
  const user = await actorOf(c);
  if (user) headers.set(USER_HEADER, JSON.stringify(user));
  const forward = new Request(`https://room/${room.data}/graphql`, { headers });
  const answer = await c.env.ROOM.getByName(room.data).fetch(forward);
  return passOn(c, answer);
});

/**
 * The room's answer to an upgrade, as the client gets it: a refusal as the worker's own error
 * body (with the request's ids); otherwise a copy, since a response from a stub has immutable
 * headers and the secure-headers middleware adds its own.
 */
async function passOn(c: Context<AppEnv>, answer: Response): Promise<Response> {
  if (answer.status >= 400) {
    const refusal = ErrorBody.safeParse(
      await answer
        .clone()
        .json()
        .catch(() => undefined),
    );
    if (refusal.success) {
      const { code, message } = refusal.data.error;
      return errorResponse(new ApiError(code, message), idsOf(c));
    }
  }
  return new Response(answer.body, {
    status: answer.status,
    headers: answer.headers,
    webSocket: answer.webSocket,
  });
}
