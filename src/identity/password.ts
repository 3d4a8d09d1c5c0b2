import * as z from "zod";

/**
 * Password hashing with PBKDF2-SHA256 through WebCrypto. The iteration count is stored beside
 * each hash so it can be raised later without locking anyone out.
 */

/** Production Workers refuse PBKDF2 above 100,000 iterations (wrangler dev does not): stay at the cap. */
export const MAX_ITERATIONS = 100_000;
export const PASSWORD_ITERATIONS = MAX_ITERATIONS;
const SALT_BYTES = 16;
const HASH_BITS = 256;

/** A stored hash, as the Account object keeps it (JSON in its SQLite row). */
export const PasswordHash = z.object({
  algorithm: z.literal("pbkdf2-sha256"),
  iterations: z.number().int().positive(),
  salt: z.string(),
  hash: z.string(),
});
export type PasswordHash = z.infer<typeof PasswordHash>;

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(
  password: string,
  iterations = PASSWORD_ITERATIONS,
): Promise<PasswordHash> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be 1..${MAX_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return { algorithm: "pbkdf2-sha256", iterations, salt: toBase64(salt), hash: toBase64(hash) };
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.iterations > MAX_ITERATIONS) return false;
  const actual = await derive(password, fromBase64(stored.salt), stored.iterations);
  return constantTimeEqual(actual, fromBase64(stored.hash));
}

/** Compares two byte strings without an early exit that would leak where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

// `Uint8Array<ArrayBuffer>`: WebCrypto takes no shared memory, and once graphql-yoga's types are
// in the program (src/graphql/) a plain Uint8Array no longer passes as its BufferSource.
async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BITS,
  );
  return new Uint8Array(bits);
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
