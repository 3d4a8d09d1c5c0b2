import { createRoute, z } from "@hono/zod-openapi";
import { allRoomNames } from "../directory/shards.ts";
import { bearer, errors, json, router } from "../http/openapi.ts";
import { worstReplicaLagMs } from "../metrics/gauges.ts";
import { shipNow } from "../metrics/isolate.ts";
import { adminRooms, buildOverview } from "../metrics/overview.ts";
import { readEveryShard } from "../metrics/shards.ts";
import { AdminRoomList, Overview, type AdminRoom } from "../protocol/index.ts";
import { probeDatabase } from "./metrics.ts";

/** The admin dashboard's numbers (mounted behind the admin check in admin.ts). */
export const adminMetrics = router();

adminMetrics.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/overview",
    summary: "The live overview: gauges now, the last hour in 10 s windows, the busiest rooms",
    description:
      "The numbers /metrics exports, as the metrics objects aggregate them (docs/observability.md). A room's counts arrive up to METRICS_PUSH_MS late.",
    security: bearer,
    responses: {
      200: json(Overview, "the overview"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => {
    await shipNow(c.env);
    const [shards, nodes] = await Promise.all([readEveryShard(c.env), probeDatabase(c)]);
    const overview = buildOverview(shards, Date.now(), { replicaLagMs: worstReplicaLagMs(nodes) });
    return c.json(overview, 200, { "cache-control": "no-store" });
  },
);

const RoomsQuery = z.object({
  q: z.string().max(64).default("").openapi({ description: "a prefix of the room's name" }),
  sort: z.enum(["activity", "sockets", "name"]).default("activity"),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const SORTS = {
  activity: (a, b) =>
    b.recentEvents - a.recentEvents || (b.lastActiveAt ?? 0) - (a.lastActiveAt ?? 0),
  sockets: (a, b) => b.socketsOpen - a.socketsOpen || b.recentEvents - a.recentEvents,
  name: () => 0,
} satisfies Record<string, (a: AdminRoom, b: AdminRoom) => number>;

adminMetrics.openapi(
  createRoute({
    method: "get",
    path: "/api/admin/rooms",
    summary: "Every room with its activity, searched by name prefix and sorted",
    description:
      "The rooms the directory knows (public and private), with sockets open and events in the last five minutes from the rooms' last metrics reports; a room that never reported is idle.",
    security: bearer,
    request: { query: RoomsQuery },
    responses: {
      200: json(AdminRoomList, "the rooms"),
      ...errors("bad_request", "unauthorized", "forbidden"),
    },
  }),
  async (c) => {
    const { q, sort, limit } = c.req.valid("query");
    const [names, shards] = await Promise.all([allRoomNames(c.env), readEveryShard(c.env)]);
    const rooms = adminRooms(
      names,
      shards.flatMap((shard) => shard.rooms),
      Date.now(),
    )
      .filter((room) => room.name.toLowerCase().startsWith(q.toLowerCase()))
      .sort((a, b) => SORTS[sort](a, b) || a.name.localeCompare(b.name))
      .slice(0, limit);
    return c.json({ rooms }, 200);
  },
);
