import { roomConfig } from "../config.ts";
import type { Rate } from "../protocol/index.ts";
import type { QueueLimits } from "./group-commit.ts";

/** The abuse limits a room enforces (docs/limits.md). */
export type RoomLimits = {
  /** Commands per user here, however they arrive (socket, HTTP, a shard's relay). */
  readonly commands: Rate;
  /** Open sockets per user here, and in every room together. */
  readonly socketsPerRoom: number;
  readonly socketsPerUser: number;
  /** Invitations per room per window. */
  readonly invites: { readonly count: number; readonly windowMs: number };
};

export type RoomSettings = { queue: QueueLimits; slowConsumerEvents: number; limits: RoomLimits };

/** The room's settings from the configuration (its defaults where it is missing or broken). */
export function roomSettings(env: object): RoomSettings {
  const config = roomConfig(env);
  return {
    queue: {
      maxQueued: config.ROOM_QUEUE_MAX_COMMANDS,
      maxWaitMs: config.ROOM_QUEUE_MAX_WAIT_MS,
      maxLagMs: config.ROOM_MAX_DELIVERY_LAG_MS,
    },
    slowConsumerEvents: config.ROOM_SLOW_CONSUMER_EVENTS,
    limits: {
      commands: { perSecond: config.LIMIT_COMMANDS_PER_SECOND, burst: config.LIMIT_COMMANDS_BURST },
      socketsPerRoom: config.LIMIT_SOCKETS_PER_ROOM,
      socketsPerUser: config.LIMIT_SOCKETS_PER_USER,
      invites: {
        count: config.LIMIT_INVITES_PER_ROOM,
        windowMs: config.LIMIT_INVITES_WINDOW_SECONDS * 1000,
      },
    },
  };
}
