import * as z from "zod";
import { UserKind, UserRef } from "../protocol/index.ts";

/**
 * Who acts on a room, as the worker verified it: never read from a client, only from the
 * worker's RPC argument or upgrade header. `admin` comes from configuration (ADMIN_USERNAMES),
 * `sid` from the access token, so that a revoked session's sockets can be found and closed.
 */
export const Actor = UserRef.extend({
  kind: UserKind.optional(),
  admin: z.boolean().optional(),
  sid: z.string().optional(),
});
export type Actor = z.infer<typeof Actor>;

/** The header through which the worker hands the verified actor to a room on a WebSocket upgrade. */
export const USER_HEADER = "x-edgechat-user";
