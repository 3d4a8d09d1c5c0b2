import type { ServiceImpl } from "@connectrpc/connect";
import * as z from "zod";
import { parseOr400, unwrap } from "../../http/openapi.ts";
import { ClientId, Invite, RoomParam } from "../../protocol/index.ts";
import { inviteByName } from "../../routes/members.ts";
import { roleName, seq, toBan, toMember, toUser } from "../convert.ts";
import { callOf, command } from "../context.ts";
import type { MemberService } from "../gen/edgechat/v1/members_pb.js";

const ClientIdParam = z.object({ clientId: ClientId });

/** MemberService (proto/edgechat/v1/members.proto): who is in a room, and the member commands. */
export const members: ServiceImpl<typeof MemberService> = {
  async listMembers(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const list = unwrap(await call.room(request.room).members(actor));
    return { members: list.members.map(toMember), online: list.online.map(toUser) };
  },

  async listBans(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const { bans } = unwrap(await call.room(request.room).bans(actor));
    return { bans: bans.map(toBan) };
  },

  async invite(request, context) {
    const call = callOf(context);
    await call.actor();
    const { room } = parseOr400(RoomParam, { room: request.room });
    const input = parseOr400(Invite, {
      username: request.username,
      ...(roleName(request.role) ? { role: roleName(request.role) } : {}),
    });
    const { clientId } = parseOr400(ClientIdParam, { clientId: request.clientId });
    const posted = await inviteByName(call.hono, room, input, clientId);
    return { seq: seq(posted.seq) };
  },

  setRole: ({ room, clientId, userId, role }, context) =>
    command(callOf(context), room, { type: "role", clientId, userId, role: roleName(role) }),
  kick: ({ room, clientId, userId }, context) =>
    command(callOf(context), room, { type: "kick", clientId, userId }),
  ban: ({ room, clientId, userId }, context) =>
    command(callOf(context), room, { type: "ban", clientId, userId }),
  unban: ({ room, clientId, userId }, context) =>
    command(callOf(context), room, { type: "unban", clientId, userId }),
  mute: ({ room, clientId, userId, seconds }, context) =>
    command(callOf(context), room, { type: "mute", clientId, userId, seconds }),
  unmute: ({ room, clientId, userId }, context) =>
    command(callOf(context), room, { type: "unmute", clientId, userId }),
};
