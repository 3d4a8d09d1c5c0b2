import { createRoomAs, listPublicRooms } from "../routes/rooms.ts";
import { parseOr400, asQuery } from "../http/openapi.ts";
import {
  CreateRoom,
  RoomParam,
  RoomSort,
  RoomsQuery,
  Visibility,
  type RoomInfo,
} from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { given } from "./input.ts";
import { connectionOf, forwardPage } from "./paging.ts";

export const VisibilityEnum = builder.enumType("Visibility", { values: Visibility.options });
const RoomSortEnum = builder.enumType("RoomSort", { values: RoomSort.options });

/** A room as `info` describes it; its other fields ask the room for more. */
export const RoomRef = builder.objectRef<RoomInfo>("Room").implement({
  description: "A chat room, as GET /api/rooms/{room} describes it.",
  fields: (t) => ({
    name: t.exposeString("name"),
    topic: t.exposeString("topic"),
    visibility: t.expose("visibility", { type: VisibilityEnum }),
    createdAt: t.expose("createdAt", { type: "Timestamp" }),
    lastSeq: t.exposeInt("lastSeq"),
    memberCount: t.exposeInt("members", { description: "REST's `members`: how many." }),
    onlineCount: t.exposeInt("online", {
      description: "REST's `online`: distinct users connected now; who they are is `online`.",
    }),
    slowModeSeconds: t.int({ resolve: (room) => room.slowModeSeconds ?? 0 }),
    shards: t.int({ resolve: (room) => room.shards ?? 0 }),
  }),
});

builder.queryFields((t) => ({
  room: t.field({
    type: RoomRef,
    description: "One room; a private room you may not see is `not_found`, like a missing one.",
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_, { name }, ctx) => {
      await ctx.actor();
      return ctx.room(parseOr400(RoomParam, { room: name }).room).info();
    },
  }),
  rooms: t.connection({
    type: RoomRef,
    description:
      "The public rooms, a page at a time (GET /api/rooms): `first` 1–200 (50); every edge's cursor continues the walk after it.",
    args: { sort: t.arg({ type: RoomSortEnum }), prefix: t.arg.string() },
    resolve: async (_, args, ctx) => {
      await ctx.actor();
      const { first, after } = forwardPage(args);
      const query = asQuery(RoomsQuery, {
        limit: first,
        cursor: after,
        sort: args.sort,
        prefix: args.prefix,
      });
      const page = await listPublicRooms(ctx.hono, query);
      const nodes = page.rooms.map((room) => ({ ...room.info, cursor: room.cursor }));
      return connectionOf(nodes, (room) => room.cursor, page.nextCursor !== null);
    },
  }),
}));

builder.mutationFields((t) => ({
  createRoom: t.field({
    type: RoomRef,
    description: "POST /api/rooms, with its limits (docs/limits.md).",
    args: {
      name: t.arg.string({ required: true }),
      topic: t.arg.string(),
      visibility: t.arg({ type: VisibilityEnum }),
      shards: t.arg.int(),
    },
    resolve: async (_, args, ctx) => {
      await ctx.actor();
      const input = parseOr400(CreateRoom, given(args));
      return createRoomAs(ctx.hono, input);
    },
  }),
}));
