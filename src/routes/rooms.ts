import { createRoute } from "@hono/zod-openapi";
import { DIRECTORY_NAME } from "../directory/notify.ts";
import { settings } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { signedIn } from "../http/authenticate.ts";
import { clientAddress, spend } from "../http/limits.ts";
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
    description:
      "At most LIMIT_ROOMS_PER_USER and LIMIT_ROOMS_PER_IP creations per LIMIT_ROOMS_WINDOW_SECONDS " +
      "(`rate_limited`), and LIMIT_ROOMS_OWNED rooms owned at once (`quota`): docs/limits.md.",
    ...signedIn,
    request: jsonBody(CreateRoom),
    responses: {
      201: json(RoomInfo, "the new room"),
      ...errors(
        "bad_request",
        "unauthorized",
        "forbidden",
        "conflict",
        "too_large",
        "rate_limited",
        "quota",
      ),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const user = c.var.user;
    const config = settings(c);
    const window = config.LIMIT_ROOMS_WINDOW_SECONDS;
    await spend(
      c,
      `rooms:user:${user.id}`,
      { count: config.LIMIT_ROOMS_PER_USER, windowSeconds: window },
      "rooms created",
    );
    await spend(
      c,
      `rooms:ip:${clientAddress(c)}`,
      { count: config.LIMIT_ROOMS_PER_IP, windowSeconds: window },
      "rooms created from your address",
    );
    const owned = c.env.USER_LIMITS.getByName(user.id);
    if (!(await owned.claimRoom(input.name, config.LIMIT_ROOMS_OWNED)))
      throw new ApiError(
        "quota",
        `you own ${config.LIMIT_ROOMS_OWNED} rooms already: hand one over first`,
      );
    const created = await c.env.ROOM.getByName(input.name).create(input, user);
    if (!created.ok) await owned.releaseRoom(input.name);
    return c.json(unwrap(created), 201);
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
