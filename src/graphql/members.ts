import { parseOr400 } from "../http/openapi.ts";
import { inviteByName } from "../routes/members.ts";
import { ClientId, Invite, RoomParam, type Ban } from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { PostedRef } from "./commands.ts";
import { given } from "./input.ts";
import { RoomRef } from "./rooms.ts";
import { MemberRef, RoleEnum, UserRef_ } from "./users.ts";

const BanRef = builder.objectRef<Ban>("Ban").implement({
  description: "Someone banned from a room, by the name they had there when known.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { nullable: true }),
    at: t.expose("at", { type: "Timestamp" }),
  }),
});

builder.objectFields(RoomRef, (t) => ({
  members: t.field({
    type: [MemberRef],
    description: "Owner first, then moderators, then members (GET …/members).",
    resolve: async (room, _, ctx) => (await ctx.room(room.name).members()).members,
  }),
  online: t.field({
    type: [UserRef_],
    description:
      "Who is connected to the room's chat now, members or not (GET …/members `online`); GraphQL subscribers are readers and not in it.",
    resolve: async (room, _, ctx) => (await ctx.room(room.name).members()).online,
  }),
  bans: t.field({
    type: [BanRef],
    description: "The latest ban first: moderators, the owner and admins (GET …/bans).",
    resolve: async (room, _, ctx) => (await ctx.room(room.name).bans()).bans,
  }),
}));

builder.mutationFields((t) => ({
  invite: t.field({
    type: PostedRef,
    description:
      "POST …/members: invites a registered user by username; only the owner invites moderators.",
    args: {
      room: t.arg.string({ required: true }),
      clientId: t.arg.string({ required: true }),
      username: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum }),
    },
    resolve: async (_, args, ctx) => {
      await ctx.actor();
      const { room } = parseOr400(RoomParam, { room: args.room });
      const clientId = parseOr400(ClientId, args.clientId);
      const invite = parseOr400(Invite, given({ username: args.username, role: args.role }));
      return inviteByName(ctx.hono, room, invite, clientId);
    },
  }),
}));
