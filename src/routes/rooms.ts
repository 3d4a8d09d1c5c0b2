import { createRoute } from "@hono/zod-openapi";
import { DIRECTORY_NAME } from "../directory/notify.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import {
  CreateRoom,
  EventsPage,
  EventsQuery,
  MessagesPage,
  MessagesQuery,
  RoomInfo,
  RoomList,
  RoomParam,
} from "../protocol/index.ts";

/** Rooms over HTTP: create, the public list, one room, its events and its messages. */
export const rooms = router();

rooms.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms",
    summary: "Create a room",
    ...signedIn,
    request: jsonBody(CreateRoom),
    responses: {
      201: json(RoomInfo, "the new room"),
      ...errors("bad_request", "unauthorized", "conflict", "too_large"),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const info = unwrap(await c.env.ROOM.getByName(input.name).create(input, c.var.user));
    return c.json(info, 201);
  },
);

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms",
    summary: "List the public rooms",
    description: "Busiest first, with member and online counts.",
    ...signedIn,
    responses: { 200: json(RoomList, "the public rooms"), ...errors("unauthorized") },
  }),
  async (c) => c.json({ rooms: await c.env.DIRECTORY.getByName(DIRECTORY_NAME).listPublic() }, 200),
);

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}",
    summary: "One room",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(RoomInfo, "the room"),
      ...errors("bad_request", "unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).info(c.var.user)), 200);
  },
);

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/events",
    summary: "Page through a room's event log",
    description: "Events with seq > `after`, oldest first; `limit` defaults to 100, at most 1000.",
    ...signedIn,
    request: { params: RoomParam, query: EventsQuery },
    responses: {
      200: json(EventsPage, "a page of events"),
      ...errors("bad_request", "unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const { after, limit } = c.req.valid("query");
    return c.json(unwrap(await c.env.ROOM.getByName(room).events(c.var.user, after, limit)), 200);
  },
);

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/messages",
    summary: "Page through a room's messages, newest first",
    description:
      "The current state of messages with id < `before` (all without it); `nextBefore` pages further back.",
    ...signedIn,
    request: { params: RoomParam, query: MessagesQuery },
    responses: {
      200: json(MessagesPage, "a page of messages"),
      ...errors("bad_request", "unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const { before, limit } = c.req.valid("query");
    return c.json(
      unwrap(await c.env.ROOM.getByName(room).messages(c.var.user, before, limit)),
      200,
    );
  },
);
