import type { KeyStatus } from "../protocol/index.ts";
import { newSecret, sha256 } from "./refresh-token.ts";

/**
 * Service accounts' API keys (docs/service-keys.md): `ecsk_<keyId>_<secret>`, the key id 16
 * hex characters, the secret 32 random bytes in base64url. Only SHA-256 of the secret is
 * stored: a secret of 256 random bits needs no slow hash, and a leaked table holds no usable key.
 * The format and the rules that decide whether a key may be used, pure; the object that keeps
 * the keys (src/service-accounts/) only reads and writes rows.
 */

export const SERVICE_KEY_PREFIX = "ecsk_";

/** The one ServiceAccounts object of the instance. */
export const SERVICE_ACCOUNTS_NAME = "@service-accounts";

export type ServiceKey = { keyId: string; secret: string };

const KEY = /^ecsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** Whether a bearer token claims to be a service key (then it is verified as one, or refused). */
export const isServiceKey = (token: string): boolean => token.startsWith(SERVICE_KEY_PREFIX);

/** The parts of a service key, or undefined for anything that is not one. */
export function parseServiceKey(text: string): ServiceKey | undefined {
  const match = KEY.exec(text);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

export const formatServiceKey = ({ keyId, secret }: ServiceKey): string =>
  `${SERVICE_KEY_PREFIX}${keyId}_${secret}`;

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** A fresh key: a random id (8 bytes, hex) and secret (32 bytes, base64url). */
export function newServiceKey(): ServiceKey {
  return { keyId: hex(crypto.getRandomValues(new Uint8Array(8))), secret: newSecret() };
}

/** A new service account's id; the prefix keeps services apart from guests and users. */
export const newServiceId = (): string => `svc_${crypto.randomUUID().replaceAll("-", "")}`;

/** What is stored of a secret: its SHA-256, hex. */
export const keyDigest = (secret: string): Promise<string> => sha256(secret);

/** Compared against when no key has the id given, so that a miss costs what a wrong secret does. */
export const DECOY_DIGEST = "0".repeat(64);

/**
 * Whether two hex digests are equal, in time that depends on their length only: every
 * character is compared, whatever the first difference.
 */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** A key's times as stored (ms since the epoch). */
export type KeyTimes = {
  expiresAt: number | null;
  revokedAt: number | null;
};

/** Where a key stands at `now`. */
export function keyStatus(key: KeyTimes, now: number): KeyStatus {
  if (key.revokedAt !== null) return "revoked";
  if (key.expiresAt === null) return "active";
  return key.expiresAt > now ? "expiring" : "expired";
}

/**
 * Why a key whose secret matched may not be used, or undefined when it may: revoked, past its
 * expiry (after a rotation's overlap), or its service disabled.
 */
export function keyRefusal(
  key: KeyTimes,
  service: { disabledAt: number | null },
  now: number,
): string | undefined {
  if (service.disabledAt !== null) return "this service account is disabled";
  switch (keyStatus(key, now)) {
    case "revoked":
      return "this key was revoked";
    case "expired":
      return "this key has expired: use the key that replaced it";
    case "active":
    case "expiring":
      return undefined;
  }
}

/** `last_used_at` is written at most this often per key: no write per request. */
export const TOUCH_EVERY_MS = 60_000;

export const shouldTouch = (lastUsedAt: number | null, now: number): boolean =>
  lastUsedAt === null || now - lastUsedAt >= TOUCH_EVERY_MS;

/**
 * The old key's expiry when it is rotated at `now`: the overlap from now, never later than an
 * expiry it already had (rotating twice does not lengthen a key's life).
 */
export function rotatedExpiry(current: number | null, now: number, overlapSeconds: number): number {
  const end = now + overlapSeconds * 1000;
  return current === null ? end : Math.min(current, end);
}
