import type { ServiceImpl } from "@connectrpc/connect";
import { asQuery, parseOr400, unwrap } from "../../http/openapi.ts";
import { CreateRoom, RoomsQuery } from "../../protocol/index.ts";
import { createRoomAs, listPublicRooms } from "../../routes/rooms.ts";
import { sortName, toRoom, visibilityName } from "../convert.ts";
import { callOf, command } from "../context.ts";
import type { RoomService } from "../gen/edgechat/v1/rooms_pb.js";

/** RoomService (proto/edgechat/v1/rooms.proto): REST's rooms and the room-wide commands. */
export const rooms: ServiceImpl<typeof RoomService> = {
  async createRoom(request, context) {
    const call = callOf(context);
    await call.actor();
    const input = parseOr400(CreateRoom, {
      name: request.name,
      topic: request.topic,
      ...(visibilityName(request.visibility)
        ? { visibility: visibilityName(request.visibility) }
        : {}),
      ...(request.shards ? { shards: request.shards } : {}),
    });
    return { room: toRoom(await createRoomAs(call.hono, input)) };
  },

  async getRoom(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    return { room: toRoom(unwrap(await call.room(request.room).info(actor))) };
  },

  async listRooms(request, context) {
    const call = callOf(context);
    await call.actor();
    const query = asQuery(RoomsQuery, {
      limit: request.pageSize || undefined,
      cursor: request.pageToken || undefined,
      sort: sortName(request.sort),
      prefix: request.prefix || undefined,
    });
    const page = await listPublicRooms(call.hono, query);
    return {
      rooms: page.rooms.map((room) => toRoom(room.info)),
      nextPageToken: page.nextCursor ?? "",
    };
  },

  setTopic: ({ room, clientId, topic }, context) =>
    command(callOf(context), room, { type: "topic", clientId, topic }),
  setSlowMode: ({ room, clientId, seconds }, context) =>
    command(callOf(context), room, { type: "slow_mode", clientId, seconds }),
  transferOwnership: ({ room, clientId, userId }, context) =>
    command(callOf(context), room, { type: "transfer", clientId, userId }),
  leaveRoom: ({ room, clientId }, context) =>
    command(callOf(context), room, { type: "leave", clientId }),
};
