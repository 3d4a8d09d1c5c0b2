import { roomInScope, type Refusal, type Standing } from "../protocol/index.ts";
import { scopeOf, type Actor } from "../identity/actor.ts";
import type { RoomView } from "./room-view.ts";

/**
 * `actor`'s standing here, for the permission rules (src/protocol/permissions.ts). A service
 * stands with its scope's role in the rooms its scope names (where `denyAccess` lets it in),
 * whatever the room's members list says, and may take only its scope's actions.
 */
export function standingOf(view: RoomView, actor: Actor): Standing {
  const scope = scopeOf(actor);
  if (!scope) return { role: view.role(actor.id), admin: actor.admin };
  const role = roomInScope(scope.rooms, view.name) ? scope.role : undefined;
  return { role, scope: scope.actions };
}

/**
 * Whether `actor` acts here without being a member: admins, and services (their standing comes
 * from their scope). Neither joins a room by acting in it.
 */
export const actsWithoutJoining = (view: RoomView, actor: Actor): boolean =>
  view.role(actor.id) !== undefined || actor.admin === true || scopeOf(actor) !== undefined;

/** Why `userId` may not act here at `now` because a mute lasts: the same words wherever it is asked. */
export function mutedRefusal(view: RoomView, userId: string, now: number): Refusal | undefined {
  const until = view.mutedUntil(userId);
  return until > now
    ? { code: "forbidden", message: `you are muted until ${new Date(until).toISOString()}` }
    : undefined;
}
