import { parseOr400, asQuery } from "../http/openapi.ts";
import { roomEventStream } from "../http/room-stream.ts";
import { RoomParam, WsQuery } from "../protocol/index.ts";
import { builder } from "./builder.ts";
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
