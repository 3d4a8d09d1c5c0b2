import type { Command, Refusal, Result, RoomEvent, RoomInfo } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { INSTANCE_AUDIT_NAME, InstanceAuditFeed } from "../audit/feed.ts";
import { DirectoryFeed } from "../directory/notify.ts";
import { Audience } from "./audience.ts";
import { RoomAudit } from "./audit.ts";
import { CommandFlow } from "./command-flow.ts";
import { IdempotencyKeys } from "./idempotency.ts";
import { backfillChain, EventLog } from "./log.ts";
import { roomOutbox, type EventSink } from "./outbox.ts";
import { IntegrationFeed } from "./integration-feed.ts";
import { INSTANCE_HUB } from "../integrations/queue-messages.ts";
import { RoomMetrics } from "./room-metrics.ts";
import { metricsConfig } from "../config.ts";
import { metricsShardFor } from "../metrics/shards.ts";
import { CHAT_TAG } from "./sockets.ts";
import { GRAPHQL_TAG } from "./graphql-sockets.ts";
import { rebuildProjections } from "./project.ts";
import { CommandBudget } from "./rate-limit.ts";
import { ReadModel } from "./read-model.ts";
import { Schedule } from "./schedule.ts";
import { assembleAutomation, roomPlugins } from "./automation-parts.ts";
import { roomTranscriptions } from "./attachment-parts.ts";
import { migrate } from "./schema.ts";
import { roomSettings } from "./settings.ts";
import { ShardFanout } from "./shard-fanout.ts";
import { Connections } from "./sockets.ts";
import { missedSince } from "./graphql-protocol.ts";
import { LiveSockets, type LiveEngine } from "./graphql-sockets.ts";
import { TimeTravel } from "./time-travel.ts";
import { UserQuotas } from "./user-quotas.ts";
import { RoomTelemetry } from "./telemetry.ts";
import { Uploads } from "./uploads.ts";
import { FileDeletions } from "./file-deletions.ts";

/** Frames one group-commit turn may send, at most: it bounds how long a turn holds the thread. */
const TURN_DELIVERIES = 4000;

/** What the parts call back into the room object for. */
export type RoomHooks = {
  /** Events were committed (or only idempotency keys stored): what follows beyond the log. */
  committed(stored: readonly RoomEvent[], now: number, keysStored: boolean): void;
  /** The room's summary now, for the directory. */
  info(): RoomInfo | undefined;
  /** Whether a GraphQL subscriber may read here and open one more socket. */
  admitReader(actor: Actor): Promise<Refusal | undefined>;
};

/**
 * How one room is put together: its storage brought to the current schema, and every part it
 * works through, wired to each other and to the objects it talks to. The Room class (room.ts)
 * holds them and routes the runtime's calls to them.
 */
export function assembleRoom(
  ctx: DurableObjectState,
  env: Env,
  sink: EventSink | undefined,
  engine: LiveEngine | undefined,
  hooks: RoomHooks,
) {
  const { rebuild } = migrate(ctx.storage);
  backfillChain(ctx.storage);
  const settings = roomSettings(env);
  const keepAlive = (work: Promise<unknown>) => ctx.waitUntil(work);
  const read = new ReadModel(ctx.storage.sql, settings.limits.invites);
  const log = new EventLog(ctx.storage.sql, read);
  if (rebuild) rebuildProjections(ctx.storage, () => log.all());
  const roomName = () => read.room()!.name;
  const telemetry = new RoomTelemetry(env, () => read.room()?.name, keepAlive);
  const schedule = new Schedule(ctx.storage);
  const outbox = roomOutbox(
    ctx.storage.sql,
    log,
    sink && meteredSink(sink, () => metrics),
    roomName,
    (rows, write) => telemetry.flush(rows, write),
  );
  const metricsSettings = metricsConfig(env);
  const metrics: RoomMetrics = new RoomMetrics({
    enabled: metricsSettings.METRICS_ENABLED,
    pushMs: metricsSettings.METRICS_PUSH_MS,
    schedule: (at) => schedule.at("push-metrics", at),
    report: () => {
      const room = read.room();
      if (!room) return undefined;
      const { flushedSeq } = outbox.state();
      const backlog = outbox.enabled ? log.lastSeq - flushedSeq : 0;
      return {
        name: room.name,
        part: "room",
        sockets: {
          chat: ctx.getWebSockets(CHAT_TAG).length,
          graphql: ctx.getWebSockets(GRAPHQL_TAG).length,
        },
        backlog,
        oldestUnflushedAt: backlog > 0 ? (log.range(flushedSeq, 1)[0]?.at ?? null) : null,
      };
    },
    push: (delta, report) =>
      metricsShardFor(env, read.room()?.name ?? ctx.id.toString()).push(delta, report),
  });
  const sockets = new Connections(ctx, settings.slowConsumerEvents, (lagMs) =>
    metrics.observe("fanout_duration_seconds", {}, lagMs / 1000),
  );
  const fanout = new ShardFanout(
    ctx.storage.sql,
    () => read.room()?.shards,
    (index) => env.ROOM_SHARD.getByName(`${roomName()}/shard-${index}`),
    keepAlive,
  );
  const live = new LiveSockets(ctx, engine, {
    name: roomName,
    admit: hooks.admitReader,
    replay: (since) => missedSince(since, log.lastSeq, (after, limit) => log.range(after, limit)),
    abused: () => metrics.count("refusals_total", { reason: "abuse" }),
  });
  const audience = new Audience(sockets, fanout, live);
  const keys = new IdempotencyKeys(ctx.storage.sql);
  const submit = (command: Command, actor: Actor) =>
    new Promise<Result<{ seq: number }>>((settle) => commands.submit({ command, actor, settle }));
  const plugins = roomPlugins(ctx, env, {
    read,
    roomName,
    submit,
    keys,
    keepAlive,
    changed: () => clock.changed(),
  });
  const commands = new CommandFlow({
    screen: plugins,
    storage: ctx.storage,
    log,
    read,
    keys,
    audience,
    limits: settings.queue,
    deliveryLagMs: (now) => sockets.lag.lagMs(now),
    // About 140 ms of sends at the measured ~35 µs a frame (docs/scaling.md), whatever the
    // room's size: a room of 100 plain-v1 sockets takes 40 commands a turn.
    turnSize: () => TURN_DELIVERIES / Math.max(1, ctx.getWebSockets().length),
    committed: hooks.committed,
    observe: (job) => telemetry.command(job),
    metrics,
  });
  const { reminders, automation, clock } = assembleAutomation(ctx, env, {
    read,
    log,
    roomName,
    audience,
    schedule,
    submit,
    plugins,
    keepAlive,
  });
  const transcriptions = roomTranscriptions(env, {
    storage: ctx.storage,
    roomName,
    submit,
    keepAlive,
    changed: () => clock.changed(),
  });
  clock.add(transcriptions);
  const uploads = new Uploads(ctx.storage.sql, roomName, () => clock.changed());
  const fileDeletions = new FileDeletions(ctx.storage, env.FILES, roomName, (messageId) => {
    const message = read.view()?.message(messageId);
    return message !== undefined && !message.deleted && !message.redacted;
  });
  clock.add(fileDeletions);
  return {
    log,
    read,
    schedule,
    clock,
    transcriptions,
    uploads,
    reminders,
    automation,
    plugins,
    sockets,
    fanout,
    live,
    audience,
    keys,
    commands,
    outbox,
    feed: new IntegrationFeed(ctx.storage.sql, log, roomName, {
      send: async (messages) => void (await env.INTEGRATIONS.sendBatch(messages)),
      instanceTypes: () => env.INTEGRATIONS_HUB.getByName(INSTANCE_HUB).wantedTypes(INSTANCE_HUB),
    }),
    metrics,
    telemetry,
    history: new TimeTravel(ctx.storage.sql, () => log.lastSeq),
    budget: new CommandBudget(settings.limits.commands),
    audit: new RoomAudit(log, () => env.AUDIT_ANCHOR.getByName(roomName()), keepAlive),
    instanceAudit: new InstanceAuditFeed(
      (entries) => env.INSTANCE_AUDIT.getByName(INSTANCE_AUDIT_NAME).record(entries),
      keepAlive,
    ),
    quotas: new UserQuotas(
      (userId) => env.USER_LIMITS.getByName(userId),
      { perRoom: settings.limits.socketsPerRoom, perUser: settings.limits.socketsPerUser },
      keepAlive,
    ),
    directory: new DirectoryFeed(env, hooks.info, (at) => schedule.at("notify-directory", at)),
  };
}

export type RoomParts = ReturnType<typeof assembleRoom>;

/** The sink with each batch counted: written or failed, and the events it carried. */
function meteredSink(sink: EventSink, metrics: () => RoomMetrics): EventSink {
  return {
    async write(room, batch) {
      try {
        const cursor = await sink.write(room, batch);
        metrics().count("flush_batches_total", { outcome: "ok" });
        metrics().count("flush_events_total", {}, batch.length);
        return cursor;
      } catch (error) {
        metrics().count("flush_batches_total", { outcome: "failed" });
        throw error;
      }
    },
  };
}
