import type { RoomEvent } from "../protocol/index.ts";
import { auditEntriesOf } from "../audit/room-entries.ts";
import { FLUSH_DELAY_MS } from "../cursor-outbox.ts";
import { changesSummary } from "./effects.ts";
import { putFilesOnClock } from "./file-deletions.ts";
import { COMMAND_TTL_MS } from "./idempotency.ts";
import { FEED_DELAY_MS } from "./integration-feed.ts";
import type { RoomParts } from "./parts.ts";
import type { Task } from "./schedule.ts";

/**
 * What a room does beyond its log (room.ts hands these to its parts): after each commit, and on
 * its schedule's tasks when its alarm rings.
 */

/** What committed events cause beyond the log: removals, key expiry, the flush, the directory. */
export function afterCommit(
  p: RoomParts,
  stored: readonly RoomEvent[],
  now: number,
  keysStored: boolean,
): void {
  if (keysStored) p.schedule.at("expire-commands", now + COMMAND_TTL_MS);
  if (stored.length === 0) return;
  p.metrics.appended(stored);
  p.audit.committed();
  p.instanceAudit.record(auditEntriesOf(p.read.room()!.name, stored));
  p.automation.committed(stored, now);
  if (stored.some((e) => e.type === "plugin.enabled" || e.type === "plugin.disabled"))
    p.plugins.forget();
  p.plugins.committed(stored);
  p.transcriptions.committed(stored, now);
  const visibility = p.read.room()?.visibility;
  if (visibility) p.audience.removeLostAccess(stored, visibility);
  if (p.outbox.enabled) p.schedule.at("flush", now + FLUSH_DELAY_MS);
  if (p.feed.wants(stored, now)) p.schedule.at("feed-integrations", now + FEED_DELAY_MS);
  if (changesSummary(stored)) void p.directory.push();
  if (putFilesOnClock(stored)) p.clock.changed();
  for (const event of stored)
    if (event.type === "room.ownership_transferred")
      p.quotas.handedOver(p.read.room()!.name, event.data.userId, event.data.from);
}

/** The schedule's tasks; each puts itself back on the schedule when more is left. */
export function scheduledTasks(parts: () => RoomParts): Record<Task, (now: number) => unknown> {
  return {
    "expire-commands": (now) => {
      const p = parts();
      const next = p.keys.expire(now);
      if (next !== undefined) p.schedule.at("expire-commands", next);
    },
    "notify-directory": () => parts().directory.push(),
    // One batch to Postgres; more batches or a retry are put back on the schedule.
    flush: async (now) => {
      const p = parts();
      if (!p.read.room()) return;
      const next = await p.outbox.flush(now);
      if (next !== undefined) p.schedule.at("flush", next);
    },
    "push-metrics": () => parts().metrics.push(),
    // One batch onto the integrations' queue; more batches or a retry are put back on the schedule.
    "feed-integrations": async (now) => {
      const p = parts();
      if (!p.read.room()) return;
      const next = await p.feed.run(now);
      if (next !== undefined) p.schedule.at("feed-integrations", next);
    },
    clock: (now) => parts().clock.tick(now),
  };
}
