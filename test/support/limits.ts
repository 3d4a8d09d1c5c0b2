/**
 * The abuse limits (docs/limits.md), lifted for every test server whose subject is something
 * else: all their clients come from one address and sign in, create rooms, open sockets and
 * post in bulk. The tests of the limits themselves set low values over these.
 */
export const LIFTED_LIMITS = {
  LIMIT_GUESTS_PER_IP: "1000000",
  LIMIT_ROOMS_PER_USER: "1000000",
  LIMIT_ROOMS_PER_IP: "1000000",
  LIMIT_ROOMS_OWNED: "1000000",
  LIMIT_COMMANDS_PER_SECOND: "1000000",
  LIMIT_COMMANDS_BURST: "1000000",
  LIMIT_SOCKETS_PER_ROOM: "100000",
  LIMIT_SOCKETS_PER_USER: "100000",
  LIMIT_INVITES_PER_ROOM: "100000",
} as const;
