/** The worker entry: the Hono app and the Durable Object classes it routes to. */
import { createApp } from "./app.ts";

export { Room } from "./room/room.ts";
export { Directory } from "./directory/directory.ts";

export default createApp() satisfies ExportedHandler<Env>;
