import { asQuery } from "../http/openapi.ts";
import { publicDirectory, roomsOf, searchMessages } from "../db/reads.ts";
import { orUnavailable, readRouter } from "../http/database.ts";
import { SearchQuery, DirectoryList, MyRooms, type SearchHit } from "../protocol/index.ts";
import type { Db } from "../db/connect.ts";
import type { Consistency } from "../db/replicas.ts";
import type * as z from "zod";
import { builder } from "./builder.ts";
import type { GraphQLContext } from "./context.ts";
import { VisibilityEnum } from "./rooms.ts";
import { RoleEnum, UserRef_ } from "./users.ts";

const HighlightRef = builder.objectRef<SearchHit["highlight"][number]>("Highlight").implement({
  fields: (t) => ({ text: t.exposeString("text"), match: t.exposeBoolean("match") }),
});

const SearchHitRef = builder.objectRef<SearchHit>("SearchHit").implement({
  fields: (t) => ({
    room: t.exposeString("room"),
    id: t.exposeInt("id"),
    author: t.field({ type: UserRef_, resolve: (h) => h.author }),
    text: t.exposeString("text"),
    at: t.expose("at", { type: "Timestamp" }),
    rank: t.exposeFloat("rank"),
    highlight: t.field({ type: [HighlightRef], resolve: (h) => h.highlight }),
    transcript: t.field({
      type: [HighlightRef],
      nullable: true,
      description:
        "The transcripts of its voice attachments around the matches, in pieces as `highlight`; null when it has none (docs/attachments.md).",
      resolve: (h) => h.transcript,
    }),
  }),
});

const SearchResultsRef = builder
  .objectRef<{ results: SearchHit[]; nextOffset: number | null }>("SearchResults")
  .implement({
    fields: (t) => ({
      results: t.field({ type: [SearchHitRef], resolve: (r) => r.results }),
      nextOffset: t.exposeInt("nextOffset", { nullable: true }),
    }),
  });

const DirectoryRoomRef = builder
  .objectRef<z.infer<typeof DirectoryList>["rooms"][number]>("DirectoryRoom")
  .implement({
    fields: (t) => ({
      name: t.exposeString("name"),
      topic: t.exposeString("topic"),
      members: t.exposeInt("members"),
      messages: t.exposeInt("messages"),
      lastActivityAt: t.expose("lastActivityAt", { type: "Timestamp" }),
      lastSeq: t.exposeInt("lastSeq"),
    }),
  });

const MyRoomRef = builder.objectRef<z.infer<typeof MyRooms>["rooms"][number]>("MyRoom").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    topic: t.exposeString("topic"),
    visibility: t.expose("visibility", { type: VisibilityEnum }),
    role: t.expose("role", { type: RoleEnum }),
    lastActivityAt: t.expose("lastActivityAt", { type: "Timestamp" }),
    lastSeq: t.exposeInt("lastSeq"),
  }),
});

/** A read from the Postgres replicas, as REST makes it: `unavailable` without Postgres. */
async function fromReplicas<T>(
  ctx: GraphQLContext,
  read: (db: Db) => Promise<T>,
  consistency: Consistency = {},
): Promise<T> {
  const { value } = await orUnavailable(readRouter(ctx.hono).read(read, consistency));
  return value;
}

builder.queryFields((t) => ({
  search: t.field({
    type: SearchResultsRef,
    description:
      "GET /api/search: the messages of every room you may read, best first; read-your-writes with `room` and `seq` or `lsn`. Needs Postgres.",
    args: {
      q: t.arg.string({ required: true }),
      limit: t.arg.int(),
      offset: t.arg.int(),
      room: t.arg.string(),
      seq: t.arg.int(),
      lsn: t.arg.string(),
    },
    resolve: async (_, args, ctx) => {
      const user = await ctx.actor();
      const { q, limit, offset, room, seq, lsn } = asQuery(SearchQuery, args);
      const consistency = {
        ...(lsn ? { lsn } : {}),
        ...(room && seq !== undefined ? { room, seq } : {}),
      };
      const hits = await fromReplicas(
        ctx,
        (db) => searchMessages(db, user, q, limit + 1, offset),
        consistency,
      );
      return {
        results: hits.slice(0, limit),
        nextOffset: hits.length > limit ? offset + limit : null,
      };
    },
  }),
  directory: t.field({
    type: [DirectoryRoomRef],
    description: "GET /api/directory: public rooms with activity figures. Needs Postgres.",
    resolve: async (_, __, ctx) => {
      await ctx.actor();
      return fromReplicas(ctx, (db) => publicDirectory(db, 200));
    },
  }),
  myRooms: t.field({
    type: [MyRoomRef],
    description: "GET /api/me/rooms: your rooms, most recently active first. Needs Postgres.",
    resolve: async (_, __, ctx) => {
      const user = await ctx.actor();
      return fromReplicas(ctx, (db) => roomsOf(db, user.id));
    },
  }),
}));
