/**
 * The worker entry and composition root: the Hono app and the Durable Object classes it routes
 * to, with the Postgres sink handed to the rooms here so that room/ never imports db/.
 */
import { env } from "cloudflare:workers";
import { createApp } from "./app.ts";
import { assertConfigured } from "./config.ts";
import { postgresSink } from "./db/postgres.ts";
import { Room as RoomObject } from "./room/room.ts";

export { RoomShard } from "./room/shard.ts";
export { Directory } from "./directory/directory.ts";
export { Account } from "./account/account.ts";
export { Throttle } from "./limits/throttle.ts";
export { UserLimits } from "./limits/user-limits.ts";
export { AuditAnchor } from "./audit/anchor.ts";

export class Room extends RoomObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, postgresSink(env));
  }
}

// In production a missing secret stops the worker at start, with a message naming it.
assertConfigured(env);

export default createApp() satisfies ExportedHandler<Env>;
