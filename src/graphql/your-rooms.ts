import * as z from "zod";
import { parseOr400 } from "../http/openapi.ts";
import { ApiError, RoomName, type YourRoom } from "../protocol/index.ts";
import { builder } from "./builder.ts";
import type { GraphQLContext } from "./context.ts";
import { mapBounded } from "./fan-out.ts";
import { given } from "./input.ts";
import { MeRef } from "./me.ts";
import { VisibilityEnum } from "./rooms.ts";
import { RoleEnum } from "./users.ts";

/**
 * How many rooms one `me.rooms` asks at most, and how many at a time. 40 rooms, the actor's
 * check and the account's list are 42 calls: under the 50 subrequests a request of the Workers
 * free plan may make. 6 at a time is what a request may hold open at once.
 */
export const YOUR_ROOMS = { max: 40, default: 20, concurrency: 6 } as const;

const YourRoomsArgs = z.object({
  first: z.number().int().min(1).max(YOUR_ROOMS.max).default(YOUR_ROOMS.default),
  names: z.array(RoomName).max(YOUR_ROOMS.max).optional(),
});

const YourRoomRef = builder.objectRef<YourRoom>("YourRoom").implement({
  description:
    "One of your rooms as the room itself sees it (no Postgres): your role, your read marker and what is unread past it.",
  fields: (t) => ({
    name: t.exposeString("name"),
    topic: t.exposeString("topic"),
    visibility: t.expose("visibility", { type: VisibilityEnum }),
    role: t.expose("role", { type: RoleEnum }),
    lastSeq: t.exposeInt("lastSeq", { description: "The seq of the room's last event." }),
    lastActivityAt: t.expose("lastActivityAt", { type: "Timestamp" }),
    readSeq: t.exposeInt("readSeq", {
      description: "Your read marker: the last seq you have read (0 before any).",
    }),
    unread: t.exposeInt("unread", {
      description:
        "Messages by others past your read marker, not deleted; counted up to 1000 (1000 means at least that).",
    }),
  }),
});

builder.objectField(MeRef, "rooms", (t) =>
  t.field({
    type: [YourRoomRef],
    description:
      "Your rooms with unread counts, most recently active first, from the rooms themselves (no Postgres). " +
      "Without `names`: the rooms your account knows (those you opened, created or were invited to; a guest has none). " +
      "With `names`: those rooms (a guest's client passes the ones it knows). Rooms you are not a member of, " +
      "or may no longer see, are left out. `first` 1–40 (20), at most 40 names.",
    args: { first: t.arg.int(), names: t.arg.stringList() },
    resolve: async (_, args, ctx) => {
      const { first, names } = parseOr400(YourRoomsArgs, given(args));
      const asked = names ? [...new Set(names)].slice(0, first) : await ctx.accountRooms(first);
      const rooms = await mapBounded(asked, YOUR_ROOMS.concurrency, (name) => yourRoom(ctx, name));
      return rooms
        .filter((room) => room !== undefined)
        .sort((a, b) => b.lastActivityAt - a.lastActivityAt || a.name.localeCompare(b.name));
    },
  }),
);

/** One room of the list; a room you may not see (missing, private, banned) is left out. */
async function yourRoom(ctx: GraphQLContext, name: string): Promise<YourRoom | undefined> {
  try {
    return await ctx.room(name).yourRoom();
  } catch (error) {
    if (error instanceof ApiError && (error.code === "not_found" || error.code === "forbidden"))
      return undefined;
    throw error;
  }
}
