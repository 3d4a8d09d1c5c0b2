/**
 * The worker entry and composition root: the Hono app and the Durable Object classes it routes
 * to, with the Postgres sinks handed to the rooms and the audit log, and GraphQL to the rooms,
 * here so that neither imports db/ or graphql/.
 */
import { env } from "cloudflare:workers";
import { createApp } from "./app.ts";
import { assertConfigured } from "./config.ts";
import { auditSink, postgresSink } from "./db/postgres.ts";
import { InstanceAudit as InstanceAuditObject } from "./audit/instance-log.ts";
import { Room as RoomObject } from "./room/room.ts";
import { liveEngine } from "./graphql/live.ts";
import { consumeDeadLetters, consumeIntegrations } from "./integrations/consumer.ts";

export { RoomShard } from "./room/shard.ts";
export { Directory } from "./directory/directory.ts";
export { Account } from "./account/account.ts";
export { UserIndex } from "./account/user-index.ts";
export { Throttle } from "./limits/throttle.ts";
export { UserLimits } from "./limits/user-limits.ts";
export { AuditAnchor } from "./audit/anchor.ts";
export { ServiceAccounts } from "./service-accounts/service-accounts.ts";
export { MetricsStore } from "./metrics/metrics-store.ts";
export { IntegrationHub } from "./integrations/hub.ts";
// Plugins (docs/plugins.md): the registry, each plugin's store per room, and the entrypoints
// that sandboxes get as capabilities through ctx.exports.
export { PluginRegistry } from "./plugins/registry-object.ts";
export { PluginStorage, PluginStore } from "./plugins/store.ts";
export { PluginOutbound } from "./plugins/outbound.ts";

export class Room extends RoomObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, postgresSink(env), liveEngine(env));
  }
}

export class InstanceAudit extends InstanceAuditObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, auditSink(env));
  }
}

// In production a missing secret stops the worker at start, with a message naming it.
assertConfigured(env);

const app = createApp();

export default {
  fetch: app.fetch,
  // The integrations' queue and its dead-letter queue (docs/integrations.md).
  queue: (batch, env) =>
    batch.queue.endsWith("-dlq") ? consumeDeadLetters(batch, env) : consumeIntegrations(batch, env),
} satisfies ExportedHandler<Env>;
