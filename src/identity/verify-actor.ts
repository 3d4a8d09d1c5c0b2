import type { Result } from "../protocol/index.ts";
import { verifyToken } from "./access-token.ts";
import type { Actor } from "./actor.ts";
import { accountKey } from "./refresh-token.ts";
import { isServiceKey, parseServiceKey, type ServiceKey } from "./service-key.ts";

/** What verifying a token needs besides the token: the instance's secret, its admins, the sessions. */
export type TokenCheck = {
  secret: string;
  /** Registered usernames (lower case) who act as admins. */
  admins: readonly string[];
  /** Whether a registered user's session is still open (asked of their account). */
  sessionActive(username: string, sid: string): Promise<boolean>;
  /**
   * The service a well-formed API key belongs to, or `unauthorized` (asked of the instance's
   * ServiceAccounts object). Without it, service keys are refused.
   */
  service?(key: ServiceKey): Promise<Result<Actor>>;
};

/**
 * The actor a bearer token names, or `unauthorized`: forged or expired tokens, registered
 * users' tokens whose session ended, and service keys that are malformed, unknown, revoked,
 * expired or whose service is disabled. Admins are named by configuration, never by the token.
 * Shared by the worker (REST, GraphQL, RPC) and the room (a GraphQL socket's connection_init).
 */
export async function actorFromToken(token: string, check: TokenCheck): Promise<Result<Actor>> {
  if (isServiceKey(token)) {
    const key = parseServiceKey(token);
    if (!key || !check.service) return unauthorized("the service key is invalid");
    return check.service(key);
  }
  const user = await verifyToken(token, check.secret);
  if (!user) return unauthorized("the token is invalid or expired");
  if (user.kind === "user" && !(await check.sessionActive(user.name, user.sid ?? "")))
    return unauthorized("the session has ended: sign in again");
  const admin = user.kind === "user" && check.admins.includes(accountKey(user.name));
  return { ok: true, value: admin ? { ...user, admin } : user };
}

const unauthorized = (message: string) =>
  ({ ok: false, error: { code: "unauthorized", message } }) as const;
