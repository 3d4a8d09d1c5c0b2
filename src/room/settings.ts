import { parseConfig } from "../config.ts";
import { QUEUE_LIMITS, type QueueLimits } from "./group-commit.ts";
import { SLOW_CONSUMER_EVENTS } from "./sockets.ts";

export type RoomSettings = { queue: QueueLimits; slowConsumerEvents: number };

/** The room's limits from the configuration, or the defaults when it does not parse. */
export function roomSettings(env: object): RoomSettings {
  const parsed = parseConfig(env);
  if (!parsed.ok) return { queue: QUEUE_LIMITS, slowConsumerEvents: SLOW_CONSUMER_EVENTS };
  const { ROOM_QUEUE_MAX_COMMANDS, ROOM_QUEUE_MAX_WAIT_MS, ROOM_SLOW_CONSUMER_EVENTS } =
    parsed.config;
  return {
    queue: { maxQueued: ROOM_QUEUE_MAX_COMMANDS, maxWaitMs: ROOM_QUEUE_MAX_WAIT_MS },
    slowConsumerEvents: ROOM_SLOW_CONSUMER_EVENTS,
  };
}
