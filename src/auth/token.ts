import { sign, verify } from "hono/jwt";
import * as z from "zod";
import { User, UserKind, UserRef } from "../protocol/index.ts";

/** Pinned: verification accepts this algorithm only, so `alg: none` or a swapped algorithm fails. */
const ALGORITHM = "HS256";
export const ISSUER = "edgechat";
export const AUDIENCE = "edgechat";
export const GUEST_TOKEN_SECONDS = 24 * 60 * 60;

const Claims = z.object({ sub: UserRef.shape.id, name: UserRef.shape.name, kind: UserKind });

/** Signs an access token for `user`. */
export async function issueToken(
  user: User,
  secret: string,
  now = Date.now(),
  ttlSeconds = GUEST_TOKEN_SECONDS,
) {
  const iat = Math.floor(now / 1000);
  const payload = {
    sub: user.id,
    name: user.name,
    kind: user.kind,
    iss: ISSUER,
    aud: AUDIENCE,
    iat,
    exp: iat + ttlSeconds,
  };
  return sign(payload, secret, ALGORITHM);
}

/** The user a token names, or undefined when it is forged, expired, or not ours. */
export async function verifyToken(token: string, secret: string): Promise<User | undefined> {
  try {
    const payload = await verify(token, secret, { alg: ALGORITHM, iss: ISSUER, aud: AUDIENCE });
    const claims = Claims.safeParse(payload);
    if (!claims.success) return undefined;
    return User.parse({ id: claims.data.sub, name: claims.data.name, kind: claims.data.kind });
  } catch {
    return undefined;
  }
}

/** A new guest's id; the prefix keeps guests and registered users apart forever. */
export function newGuestId(): string {
  return `g_${crypto.randomUUID().replaceAll("-", "")}`;
}
