import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../http/api-error.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { ClientFrame, Posted, PostMessage, RoomParam } from "../protocol/index.ts";
import { traceparentIn } from "../telemetry/tracing.ts";

/**
 * Room commands over HTTP, for bots and integrations: the same rules, permissions and
 * idempotency on `clientId` as over the WebSocket, all decided by the room.
 */
export const commands = router();

commands.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/messages",
    summary: "Post a message",
    description: "The same command as a WebSocket `post`, with the same idempotency on `clientId`.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(PostMessage) },
    responses: {
      201: json(Posted, "stored; `seq` is the message's id"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "too_large"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const command = { type: "post" as const, ...c.req.valid("json") };
    const traceparent = traceparentIn(c.var.telemetry.scope);
    const stub = c.env.ROOM.getByName(room);
    const { requestId } = c.var.telemetry;
    return c.json(unwrap(await stub.command(command, c.var.user, traceparent, requestId)), 201);
  },
);

commands.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/commands",
    summary: "Send any room command over HTTP",
    description:
      "The body is one command frame of the WebSocket protocol (post, edit, delete, react, undo, redo, redact, topic, leave, " +
      "role, kick, ban, unban, mute, unmute, transfer, slow_mode), with the same rules and the same idempotency on `clientId`.",
    ...signedIn,
    request: {
      params: RoomParam,
      ...jsonBody(ClientFrame),
    },
    responses: {
      201: json(Posted, "applied; the seq of its (last) event"),
      ...errors(
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "rate_limited",
      ),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const frame = c.req.valid("json");
    if (!("clientId" in frame))
      throw new ApiError("bad_request", `${frame.type} is a WebSocket signal, not a command`);
    const traceparent = traceparentIn(c.var.telemetry.scope);
    const stub = c.env.ROOM.getByName(room);
    const { requestId } = c.var.telemetry;
    return c.json(unwrap(await stub.command(frame, c.var.user, traceparent, requestId)), 201);
  },
);
