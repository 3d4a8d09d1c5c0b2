import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor } from "../directory/listing.ts";
import { listRooms, type RoomPage } from "../directory/shards.ts";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.ts";
import { settings } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { authenticate, signedIn } from "../http/authenticate.ts";
import { clientAddress, spend } from "../http/limits.ts";
import { accountKey } from "../identity/refresh-token.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import {
  ChainReport,
  CreateRoom,
  EventsPage,
  EventsQuery,
  MessagesPage,
  MessagesQuery,
  RoomInfo,
  RoomList,
  RoomName,
  RoomParam,
  RoomsQuery,
  RoomStateAt,
  StateAtQuery,
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
  async (c) => c.json(await createRoomAs(c, c.req.valid("json")), 201),
);

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms",
    summary: "List the public rooms, a page at a time",
    description:
      "`sort`: `activity` (most online, then most events; the default), `newest` or `members`; " +
      "`prefix`: names that start with it; `limit` 1–200 (50). `nextCursor` continues the walk " +
      "in the same order (it carries the sort and prefix); a walk sees the figures it sorts by as " +
      "they were at its first page, so no room is listed twice or skipped while rooms change. " +
      "A cursor older than 15 minutes is refused: start again. See docs/directory.md.",
    ...signedIn,
    request: { query: RoomsQuery },
    responses: {
      200: json(RoomList, "a page of public rooms"),
      ...errors("bad_request", "unauthorized"),
    },
  }),
  async (c) => {
    const { rooms, nextCursor } = await listPublicRooms(c, c.req.valid("query"));
    return c.json({ rooms: rooms.map((room) => room.info), nextCursor }, 200);
  },
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
    path: "/api/rooms/{room}/audit/verify",
    summary: "Verify the room's hash chain",
    description:
      "Recomputes every event's hash from the stored log and checks the head against the one " +
      "anchored outside the room: `ok` with the last seq and head, or the first broken link (a " +
      "changed event, a missing one, events cut off the end). Owners and admins; see docs/audit.md.",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(ChainReport, "the verdict"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).auditVerify(c.var.user)), 200);
  },
);

/** Events read from the room per call of the export: a long log is never held whole. */
const EXPORT_PAGE = 500;

rooms.openAPIRegistry.registerPath({
  method: "get",
  path: "/api/rooms/{room}/audit/export",
  summary: "Export the room's log with its hashes",
  description:
    "NDJSON, one event a line, oldest first: `seq`, `id`, `type`, `at`, `actor`, `data`, " +
    "`contentHash`, `prevHash`, `hash`. Owners and admins. Check it without a server with " +
    "`npm run verify-export -- FILE [--head HASH]` (docs/audit.md).",
  security: bearer,
  request: { params: RoomParam },
  responses: {
    200: {
      content: { "application/x-ndjson": { schema: z.string() } },
      description: "the log, one JSON event per line",
    },
    ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
  },
});

rooms.get("/api/rooms/:room/audit/export", authenticate, async (c) => {
  const room = RoomName.safeParse(c.req.param("room"));
  if (!room.success) throw new ApiError("bad_request", "invalid room name");
  const stub = c.env.ROOM.getByName(room.data);
  const actor = c.var.user;
  // The first page before any byte goes out: a refusal is still an HTTP error.
  let page = unwrap(await stub.auditPage(actor, 0, EXPORT_PAGE));
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (page.lines.length === 0) return controller.close();
      controller.enqueue(encoder.encode(page.lines.map((line) => `${line}\n`).join("")));
      const next = await stub.auditPage(actor, page.last, EXPORT_PAGE);
      if (!next.ok) return controller.error(new Error(next.error.message));
      page = next.value;
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${room.data}.ndjson"`,
    },
  });
});

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

rooms.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/state",
    summary: "The room as it was at a past moment",
    description:
      "Time travel (docs/audit.md): the room's name, topic, visibility, slow mode and owner, its members " +
      "with their roles, and a page of its messages with the text they had, as they were at event `at` " +
      "(a seq, 1 to the last) or at the last event at or before `atTime` (ms): give exactly one. Messages " +
      "newest first; `before` and `limit` (default 50, at most 200) page them. Redacted text stays empty " +
      "at every moment. For anyone who may see the room now.",
    ...signedIn,
    request: { params: RoomParam, query: StateAtQuery },
    responses: {
      200: json(RoomStateAt, "the room at that moment"),
      ...errors("bad_request", "unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const { at, atTime, before, limit } = c.req.valid("query");
    const moment = at !== undefined ? { at } : { atTime: atTime! };
    const stub = c.env.ROOM.getByName(room);
    return c.json(unwrap(await stub.stateAt(c.var.user, moment, { before, limit })), 200);
  },
);

/**
 * Creates a room for the signed-in user within the abuse limits (docs/limits.md): creations per
 * user and per address, rooms owned. Shared by REST and GraphQL.
 */
export async function createRoomAs(c: Context<AppEnv>, input: CreateRoom): Promise<RoomInfo> {
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
  const info = unwrap(created);
  // The owner's list of rooms (GraphQL `me.rooms`) has it before any socket opens.
  if (user.kind === "user")
    await c.env.ACCOUNT.getByName(accountKey(user.name)).noteRoom(info.name);
  return info;
}

/**
 * A page of the public rooms for a parsed `RoomsQuery`, each room with the cursor that continues
 * the walk after it; a foreign or expired cursor is `bad_request`. Shared by REST and GraphQL.
 */
export async function listPublicRooms(
  c: Context<AppEnv>,
  query: z.infer<typeof RoomsQuery>,
): Promise<RoomPage> {
  const { limit, cursor: text, sort, prefix } = query;
  const cursor = text === undefined ? undefined : decodeCursor(text);
  if (text !== undefined && !cursor)
    throw new ApiError("bad_request", "not a cursor of this listing");
  if (
    cursor &&
    ((sort && sort !== cursor.sort) || (prefix !== undefined && prefix !== cursor.prefix))
  )
    throw new ApiError("bad_request", "the cursor belongs to another sort or prefix");
  const page = await listRooms(c.env, {
    limit,
    sort: cursor?.sort ?? sort ?? "activity",
    prefix: cursor?.prefix ?? prefix ?? "",
    ...(cursor ? { cursor } : {}),
  });
  if (!page)
    throw new ApiError("bad_request", "this listing has expired: start again from the first page");
  return page;
}
