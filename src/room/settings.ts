import { parseConfig } from "../config.ts";
import { QUEUE_LIMITS, type QueueLimits } from "./group-commit.ts";
import { SLOW_CONSUMER_EVENTS } from "./sockets.ts";

export type RoomSettings = { queue: QueueLimits; slowConsumerEvents: number };

/** The room's limits from the configuration, or the defaults when it does not parse. */
export function roomSettings(env: object): RoomSettings {
  const parsed = parseConfig(env);
  if (!parsed.ok) return { queue: QUEUE_LIMITS, slowConsumerEvents: SLOW_CONSUMER_EVENTS };
  const config = parsed.config;
  return {
    queue: {
      maxQueued: config.ROOM_QUEUE_MAX_COMMANDS,
      maxWaitMs: config.ROOM_QUEUE_MAX_WAIT_MS,
      maxLagMs: config.ROOM_MAX_DELIVERY_LAG_MS,
    },
    slowConsumerEvents: config.ROOM_SLOW_CONSUMER_EVENTS,
  };
}
