import { createRoute } from "@hono/zod-openapi";
import { accountKey } from "../account/tokens.ts";
import { ApiError } from "../http/api-error.ts";
import { authenticate } from "../http/authenticate.ts";
import { bearer, errors, json, router, unwrap } from "../http/openapi.ts";
import {
  ClientFrame,
  Invite,
  MODERATION_COMMANDS,
  MemberList,
  Posted,
  RoomParam,
  type Command,
} from "../protocol/index.ts";
import type { Actor } from "../room/actor.ts";

/** Members, invitations and every room command over HTTP (moderation included). */
export const members = router();
members.use("/api/rooms/:room/members", authenticate);
members.use("/api/rooms/:room/commands", authenticate);

members.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/members",
    summary: "The room's members and their roles",
    security: bearer,
    request: { params: RoomParam },
    responses: {
      200: json(MemberList, "owner first, then moderators, then members"),
      ...errors("unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).members(c.var.user)), 200);
  },
);

members.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/members",
    summary: "Invite a registered user",
    description:
      "Owners and moderators invite members; only the owner invites moderators. An invitation makes them a member at once.",
    security: bearer,
    request: {
      params: RoomParam,
      body: { content: { "application/json": { schema: Invite } }, required: true },
    },
    responses: {
      201: json(
        Posted,
        "the member.invited event's seq (or the current seq when they already were a member)",
      ),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const { username, role } = c.req.valid("json");
    const stub = c.env.ROOM.getByName(room);
    await requireModerator(stub, c.var.user);
    const invited = await c.env.ACCOUNT.getByName(accountKey(username)).profile();
    if (!invited) throw new ApiError("not_found", `no user named ${username}`);
    const command: Command = {
      type: "invite",
      clientId: crypto.randomUUID(),
      user: { id: invited.id, name: invited.name },
      role,
    };
    return c.json(unwrap(await stub.command(command, c.var.user)), 201);
  },
);

members.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/commands",
    summary: "Send any room command over HTTP",
    description:
      "The body is one command frame of the WebSocket protocol (post, edit, delete, react, topic, leave, " +
      "role, kick, ban, unban, mute, unmute, transfer, slow_mode), with the same rules and the same idempotency on `clientId`.",
    security: bearer,
    request: {
      params: RoomParam,
      body: { content: { "application/json": { schema: ClientFrame } }, required: true },
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
    const stub = c.env.ROOM.getByName(room);
    // Checked here at the edge, and again by the room.
    if (MODERATION_COMMANDS.has(frame.type)) await requireModerator(stub, c.var.user);
    return c.json(unwrap(await stub.command(frame, c.var.user)), 201);
  },
);

/** The edge's own check before a moderation command reaches the room (which checks again). */
async function requireModerator(
  stub: DurableObjectStub<import("../room/room.ts").Room>,
  actor: Actor,
): Promise<void> {
  const rank = unwrap(await stub.rank(actor));
  if (rank < 1) throw new ApiError("forbidden", "only the room's owner and moderators may do that");
}
