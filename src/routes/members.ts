import { createRoute } from "@hono/zod-openapi";
import { accountKey } from "../identity/refresh-token.ts";
import { ApiError } from "../http/api-error.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import {
  BanList,
  Invite,
  MemberList,
  Posted,
  refusal,
  RoomParam,
  type Command,
  type Role,
} from "../protocol/index.ts";
import type { Room } from "../room/room.ts";
import type { Actor } from "../identity/actor.ts";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.ts";

/** A room's members and invitations. */
export const members = router();

members.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/members",
    summary: "The room's members and their roles",
    ...signedIn,
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
    ...signedIn,
    request: {
      params: RoomParam,
      ...jsonBody(Invite),
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
    const posted = await inviteByName(c, room, c.req.valid("json"), crypto.randomUUID());
    return c.json(posted, 201);
  },
);

members.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/bans",
    summary: "Who is banned from the room",
    description:
      "For the room's moderators and owner (and instance admins): the latest ban first, with the name the user had in the room when it is known.",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(BanList, "the bans"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).bans(c.var.user)), 200);
  },
);

/**
 * The edge's own check before an invitation, so that only those who may invite learn whether a
 * username exists; the room checks again when it applies the command.
 */
async function requireInviter(
  stub: DurableObjectStub<Room>,
  actor: Actor,
  role: Role,
): Promise<void> {
  const standing = unwrap(await stub.standing(actor));
  const denied = refusal(standing, role === "moderator" ? "invite_moderator" : "invite");
  if (denied) throw ApiError.from(denied);
}

/**
 * Invites a registered user by username: the edge's own check first, then the room's `invite`
 * command with `clientId`. Shared by REST (a fresh clientId per call) and GraphQL (the caller's).
 */
export async function inviteByName(
  c: Context<AppEnv>,
  room: string,
  { username, role }: { username: string; role: Exclude<Role, "owner"> },
  clientId: string,
): Promise<{ seq: number }> {
  const stub = c.env.ROOM.getByName(room);
  await requireInviter(stub, c.var.user, role);
  const invited = await c.env.ACCOUNT.getByName(accountKey(username)).profile();
  if (!invited) throw new ApiError("not_found", `no user named ${username}`);
  const command: Command = {
    type: "invite",
    clientId,
    user: { id: invited.id, name: invited.name },
    role,
  };
  const posted = unwrap(await stub.command(command, c.var.user));
  // The invitee's list of rooms (GraphQL `me.rooms`) shows a private room before they open it.
  await c.env.ACCOUNT.getByName(accountKey(username)).noteRoom(room);
  return posted;
}
