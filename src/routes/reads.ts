import { createRoute } from "@hono/zod-openapi";
import { publicDirectory, roomsOf, searchMessages } from "../db/reads.ts";
import { signedIn } from "../http/authenticate.ts";
import { orUnavailable, readRouter, SERVED_BY, servedByLabel } from "../http/database.ts";
import { errors, json, router } from "../http/openapi.ts";
import { DirectoryList, MyRooms, SearchQuery, SearchResults } from "../protocol/index.ts";

/** Reads served from Postgres read replicas: search, the directory with activity, a user's rooms. */
export const reads = router();

reads.openapi(
  createRoute({
    method: "get",
    path: "/api/search",
    summary: "Search the messages of every room you may read",
    description:
      "Full text, ranked, with highlights. Served by a replica when one is healthy and recent enough. " +
      "Read-your-writes: pass `room` and `seq` (or `lsn`) and the answer includes that write, from a replica " +
      "that has replayed it or else from the primary.",
    ...signedIn,
    request: { query: SearchQuery },
    responses: {
      200: json(SearchResults, "the best matches first"),
      ...errors("bad_request", "unauthorized", "unavailable"),
    },
  }),
  async (c) => {
    const { q, limit, offset, room, seq, lsn } = c.req.valid("query");
    const consistency = {
      ...(lsn ? { lsn } : {}),
      ...(room && seq !== undefined ? { room, seq } : {}),
    };
    const { value, servedBy } = await orUnavailable(
      readRouter(c).read((db) => searchMessages(db, c.var.user, q, limit + 1, offset), consistency),
    );
    c.header(SERVED_BY, servedByLabel(c, servedBy));
    const results = value.slice(0, limit);
    return c.json({ results, nextOffset: value.length > limit ? offset + limit : null }, 200);
  },
);

reads.openapi(
  createRoute({
    method: "get",
    path: "/api/directory",
    summary: "Public rooms with activity figures",
    description: "Most recently active first: members, messages, last activity. From the replicas.",
    ...signedIn,
    responses: {
      200: json(DirectoryList, "the public rooms"),
      ...errors("unauthorized", "unavailable"),
    },
  }),
  async (c) => {
    const { value, servedBy } = await orUnavailable(
      readRouter(c).read((db) => publicDirectory(db, 200)),
    );
    c.header(SERVED_BY, servedByLabel(c, servedBy));
    return c.json({ rooms: value }, 200);
  },
);

reads.openapi(
  createRoute({
    method: "get",
    path: "/api/me/rooms",
    summary: "The rooms you belong to",
    ...signedIn,
    responses: {
      200: json(MyRooms, "your rooms, most recently active first"),
      ...errors("unauthorized", "unavailable"),
    },
  }),
  async (c) => {
    const { value, servedBy } = await orUnavailable(
      readRouter(c).read((db) => roomsOf(db, c.var.user.id)),
    );
    c.header(SERVED_BY, servedByLabel(c, servedBy));
    return c.json({ rooms: value }, 200);
  },
);
