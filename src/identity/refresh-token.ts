/**
 * Refresh tokens: opaque to clients, `rt1.<account>.<session id>.<secret>`. The account part
 * (the normalized username, base64url) tells the worker which Account object to ask; only a
 * SHA-256 of the secret is stored, so a leaked database holds no usable token.
 */
const PREFIX = "rt1";

export type RefreshToken = { account: string; sid: string; secret: string };

export function formatRefreshToken(token: RefreshToken): string {
  return [PREFIX, base64url(new TextEncoder().encode(token.account)), token.sid, token.secret].join(
    ".",
  );
}

/** The parts of a refresh token, or undefined for anything that is not one. */
export function parseRefreshToken(text: string): RefreshToken | undefined {
  const [prefix, account = "", sid = "", secret = "", ...rest] = text.split(".");
  if (prefix !== PREFIX || rest.length > 0) return undefined;
  if (
    !/^[A-Za-z0-9_-]{1,64}$/.test(account) ||
    !/^[a-f0-9]{32}$/.test(sid) ||
    !/^[A-Za-z0-9_-]{43}$/.test(secret)
  ) {
    return undefined;
  }
  try {
    return {
      account: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
        fromBase64url(account),
      ),
      sid,
      secret,
    };
  } catch {
    return undefined;
  }
}

/** A fresh random secret: 32 bytes, base64url. */
export function newSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A fresh session id: 16 random bytes, hex. */
export function newSessionId(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Usernames are unique case-insensitively: one Account object per lower-cased name. */
export const accountKey = (username: string) => username.toLowerCase();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const padded =
    text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}
