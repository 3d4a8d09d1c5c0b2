import * as z from "zod";
import { RoomName } from "./names.ts";

/**
 * What the admin dashboard's overview reads (`GET /api/admin/overview`, docs/observability.md):
 * the same numbers `/metrics` exposes, as the metrics objects aggregate them across rooms and
 * isolates, with the last hour in fixed windows for the charts.
 */

/** Latency percentiles of one window, in milliseconds; null where the window saw nothing. */
export const Percentiles = z.object({
  p50: z.array(z.number().nullable()),
  p95: z.array(z.number().nullable()),
  p99: z.array(z.number().nullable()),
});
export type Percentiles = z.infer<typeof Percentiles>;

/** The last hour, one entry per window (oldest first); rates are per second over the window. */
export const OverviewSeries = z.object({
  windowSeconds: z.number().int().positive(),
  /** Each window's end, ms since the epoch. */
  at: z.array(z.number().int()),
  messagesPerSecond: z.array(z.number()),
  commandsPerSecond: z.array(z.number()),
  deliveriesPerSecond: z.array(z.number()),
  /** Refused commands by the contract's refusal code (rate_limited, overloaded, forbidden, …). */
  refusalsPerSecond: z.record(z.string(), z.array(z.number())),
  /** Error answers of the HTTP API by the contract's error code. */
  errorsPerSecond: z.record(z.string(), z.array(z.number())),
  socketsOpen: z.array(z.number().int()),
  roomsActive: z.array(z.number().int()),
  commitMs: Percentiles,
  fanoutMs: Percentiles,
});
export type OverviewSeries = z.infer<typeof OverviewSeries>;

export const BusyRoom = z.object({
  name: RoomName,
  socketsOpen: z.number().int(),
  /** Events appended in the last five minutes. */
  recentEvents: z.number().int(),
  lastActiveAt: z.number().int(),
});
export type BusyRoom = z.infer<typeof BusyRoom>;

export const Overview = z.object({
  at: z.number().int(),
  now: z.object({
    roomsActive: z.number().int(),
    socketsOpen: z.number().int(),
    /** Over the last full window. */
    messagesPerSecond: z.number(),
    commandsPerSecond: z.number(),
    /** Events not yet in Postgres, summed over the rooms that report; 0 without Postgres. */
    flushBacklog: z.number().int(),
    /** The worst replica's lag; null without Postgres or replicas. */
    replicaLagMs: z.number().nullable(),
  }),
  series: OverviewSeries,
  /** The rooms with the most events in the last five minutes, then the most sockets. */
  busiestRooms: z.array(BusyRoom),
});
export type Overview = z.infer<typeof Overview>;

/** `GET /api/admin/rooms`: every room the instance knows, with its activity. */
export const AdminRoom = BusyRoom.extend({ lastActiveAt: z.number().int().nullable() });
export type AdminRoom = z.infer<typeof AdminRoom>;
export const AdminRoomList = z.object({ rooms: z.array(AdminRoom) });
export type AdminRoomList = z.infer<typeof AdminRoomList>;
