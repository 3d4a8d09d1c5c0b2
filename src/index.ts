/** The worker entry: the Hono app and the Durable Object classes it routes to. */
import { env } from "cloudflare:workers";
import { createApp } from "./app.ts";
import { assertConfigured } from "./config.ts";

export { Room } from "./room/room.ts";
export { Directory } from "./directory/directory.ts";
export { Account } from "./account/account.ts";
export { Throttle } from "./throttle/throttle.ts";

// In production a missing secret stops the worker at start, with a message naming it.
assertConfigured(env);

export default createApp() satisfies ExportedHandler<Env>;
