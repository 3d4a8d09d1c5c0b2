import * as z from "zod";
import { ScopeShape, UserKind, UserRef, type ServiceScope } from "../protocol/index.ts";

/**
 * Who acts on a room, as the worker verified it: never read from a client, only from the
 * worker's RPC argument or upgrade header. `admin` comes from configuration (ADMIN_USERNAMES),
 * `sid` from the access token (a service's: its key id), so that a revoked session's sockets
 * can be found and closed; `scope` is a service account's (docs/service-keys.md).
 */
export const Actor = UserRef.extend({
  kind: UserKind.optional(),
  admin: z.boolean().optional(),
  sid: z.string().optional(),
  scope: ScopeShape.optional(),
});
export type Actor = z.infer<typeof Actor>;

/** Nothing, anywhere: the scope of a service whose actor somehow came without one. */
const NO_SCOPE: ServiceScope = { rooms: [], actions: [], role: "member" };

/**
 * The scope `actor` acts within: a service's own, never none for a service (a service without
 * one may do nothing), and undefined for people.
 */
export function scopeOf(actor: Actor): ServiceScope | undefined {
  if (actor.scope) return actor.scope;
  return actor.kind === "service" ? NO_SCOPE : undefined;
}

/** The header through which the worker hands the verified actor to a room on a WebSocket upgrade. */
export const USER_HEADER = "x-edgechat-user";
