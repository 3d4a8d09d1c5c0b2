import {
  BOTS_PER_USER_MAX,
  type Refusal,
  type Result,
  type ServiceScope,
  type Standing,
} from "../protocol/index.ts";

/**
 * The rules of bots, the service accounts users make for themselves at `/api/bots`
 * (docs/integrations.md, "Bots"): a bot acts only in rooms its owner owns when they give it
 * them, and a user has at most BOTS_PER_USER_MAX of them. Admins' services at
 * `/api/admin/services` are not bound by these.
 */

/**
 * Why these rooms may not be a bot's, for the user whose standing in each room is
 * `standings` (the rooms' own answer, `Room.standing`): the first room that they do not own
 * now, or that they may not see, or that does not exist, all in the same words, so that the
 * answer never tells a private room from a missing one. `"*"` is for admins.
 */
export function botRoomsRefusal(
  rooms: ServiceScope["rooms"],
  standings: ReadonlyMap<string, Result<Standing>>,
): Refusal | undefined {
  if (rooms === "*")
    return { code: "bad_request", message: 'a bot names its rooms one by one: "*" is for admins' };
  for (const room of rooms) {
    const standing = standings.get(room);
    if (!standing?.ok || standing.value.role !== "owner")
      return {
        code: "forbidden",
        message: `"${room}" is not a room you own: a bot may be given only rooms you own`,
      };
  }
  return undefined;
}

/** Why a user who owns `owned` bots may not make another: the cap, or nothing. */
export function botCountRefusal(owned: number): Refusal | undefined {
  if (owned < BOTS_PER_USER_MAX) return undefined;
  return {
    code: "conflict",
    message: `a user may have at most ${BOTS_PER_USER_MAX} bots: delete one first`,
  };
}
