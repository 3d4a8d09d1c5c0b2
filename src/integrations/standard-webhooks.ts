/**
 * Signatures of outgoing webhooks per the Standard Webhooks spec (the one Svix publishes):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by a
 * `whsec_` secret. Runs in workerd and in Node (WebCrypto only). docs/integrations.md,
 * "Signatures, URLs and formats", is the receiver's recipe.
 */
import { equalInConstantTime, fromBase64, hmacSha256, toBase64 } from "./hmac.ts";

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
/** The spec asks for 24 to 64 bytes of key; we generate 32. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The key inside a `whsec_` secret (the prefix is optional), or undefined when it is not one. */
export function parseWebhookSecret(text: string): Uint8Array | undefined {
  const encoded = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text;
  const key = fromBase64(encoded);
  if (!key || key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) return undefined;
  return key;
}

function keyOf(secret: string): Uint8Array {
  const key = parseWebhookSecret(secret);
  // Our secrets come from generateWebhookSecret: a bad one is a bug, not a user's input.
  if (!key) throw new Error("not a webhook secret: whsec_ and base64 of 24 to 64 bytes");
  return key;
}

function signedContent(id: string, timestampSeconds: number, body: string): string {
  return `${id}.${timestampSeconds}.${body}`;
}

/** `v1,<base64 HMAC-SHA256>` of one delivery. Throws on a secret that is not a `whsec_` one. */
export async function signPayload(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const mac = await hmacSha256(keyOf(secret), signedContent(id, timestampSeconds, body));
  return `v1,${toBase64(mac)}`;
}

export type WebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  "content-type": "application/json";
};

/**
 * The headers of one delivery: one `v1` signature per secret, space-separated, so that a
 * receiver holding either secret of a rotation accepts it.
 */
export async function webhookHeaders(input: {
  id: string;
  timestampSeconds: number;
  body: string;
  secrets: readonly string[];
}): Promise<WebhookHeaders> {
  if (input.secrets.length === 0) throw new Error("a webhook needs at least one secret");
  const signatures = await Promise.all(
    input.secrets.map((secret) =>
      signPayload(secret, input.id, input.timestampSeconds, input.body),
    ),
  );
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestampSeconds),
    "webhook-signature": signatures.join(" "),
    "content-type": "application/json",
  };
}

export type HeaderSource = Headers | Readonly<Record<string, string | undefined>>;

/** A header by its name in any case, from a Headers object or a plain record. */
export function headerOf(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export type WebhookVerdict =
  | { ok: true }
  | { ok: false; reason: "missing_headers" | "stale" | "future" | "bad_signature" | "bad_secret" };

/** Whole seconds since the epoch, as the spec writes them; anything else is not a timestamp. */
const TIMESTAMP = /^\d{1,15}$/;

/**
 * The receiver's check: the three headers present and well formed (else `missing_headers`),
 * the timestamp within `toleranceSeconds` of now (`stale` before, `future` after: a replay of an
 * old delivery fails here), and at least one `v1` signature made with one of `secrets`
 * (`bad_signature`). Signatures of other versions are ignored. `bad_secret` when a secret is not
 * a `whsec_` one or none is given: a configuration mistake, named before anything else.
 */
export async function verifyWebhook(input: {
  headers: HeaderSource;
  body: string;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds?: number;
}): Promise<WebhookVerdict> {
  const keys = input.secrets.map(parseWebhookSecret);
  if (keys.length === 0 || keys.some((key) => key === undefined)) {
    return { ok: false, reason: "bad_secret" };
  }
  const id = headerOf(input.headers, "webhook-id");
  const timestamp = headerOf(input.headers, "webhook-timestamp");
  const signatures = headerOf(input.headers, "webhook-signature");
  if (!id || !signatures || !timestamp || !TIMESTAMP.test(timestamp)) {
    return { ok: false, reason: "missing_headers" };
  }
  const timestampSeconds = Number(timestamp);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (input.nowSeconds - timestampSeconds > tolerance) return { ok: false, reason: "stale" };
  if (timestampSeconds - input.nowSeconds > tolerance) return { ok: false, reason: "future" };

  const offered = v1Signatures(signatures);
  const content = signedContent(id, timestampSeconds, input.body);
  for (const key of keys as Uint8Array[]) {
    const expected = await hmacSha256(key, content);
    // No early exit on a match: each offered signature is compared in full either way.
    let matched = false;
    for (const signature of offered) matched = equalInConstantTime(signature, expected) || matched;
    if (matched) return { ok: true };
  }
  return { ok: false, reason: "bad_signature" };
}

/** The decoded `v1,…` entries of a `webhook-signature` header; other versions are skipped. */
function v1Signatures(header: string): Uint8Array[] {
  const decoded: Uint8Array[] = [];
  for (const entry of header.split(" ")) {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || signature === undefined) continue;
    const bytes = fromBase64(signature);
    if (bytes) decoded.push(bytes);
  }
  return decoded;
}
