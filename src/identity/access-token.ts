import { sign, verify } from "hono/jwt";
import * as z from "zod";
import { UserKind, UserRef, type User } from "../protocol/index.ts";

/** Pinned: verification accepts this algorithm only, so `alg: none` or a swapped algorithm fails. */
const ALGORITHM = "HS256";
export const ISSUER = "edgechat";
export const AUDIENCE = "edgechat";
export const GUEST_TOKEN_SECONDS = 24 * 60 * 60;

const Claims = z.object({
  sub: UserRef.shape.id,
  name: UserRef.shape.name,
  // Services sign in with API keys, never with a token (docs/service-keys.md).
  kind: UserKind.exclude(["service"]),
  sid: z.string().optional(),
});

/** A verified access token: who, and for registered users the session it belongs to. */
export type TokenUser = User & { sid?: string };

/** Signs an access token for `user`; registered users' tokens name their session (`sid`). */
export async function issueToken(
  user: TokenUser,
  secret: string,
  now = Date.now(),
  ttlSeconds = GUEST_TOKEN_SECONDS,
) {
  const iat = Math.floor(now / 1000);
  const payload = {
    sub: user.id,
    name: user.name,
    kind: user.kind,
    ...(user.sid === undefined ? {} : { sid: user.sid }),
    iss: ISSUER,
    aud: AUDIENCE,
    iat,
    exp: iat + ttlSeconds,
  };
  return sign(payload, secret, ALGORITHM);
}

/** The user a token names, or undefined when it is forged, expired, or not ours. */
export async function verifyToken(token: string, secret: string): Promise<TokenUser | undefined> {
  try {
    const payload = await verify(token, secret, { alg: ALGORITHM, iss: ISSUER, aud: AUDIENCE });
    const claims = Claims.safeParse(payload);
    if (!claims.success) return undefined;
    const { sub, name, kind, sid } = claims.data;
    // A registered user's token without a session could never be revoked: refuse it.
    if (kind === "user" && sid === undefined) return undefined;
    return { id: sub, name, kind, ...(sid === undefined ? {} : { sid }) };
  } catch {
    return undefined;
  }
}

/** A new guest's id; the prefix keeps guests and registered users apart forever. */
export function newGuestId(): string {
  return `g_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A new registered user's id. */
export function newUserId(): string {
  return `u_${crypto.randomUUID().replaceAll("-", "")}`;
}
