/**
 * Slack's request signatures ("Verifying requests from Slack"): `X-Slack-Signature:
 * v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`, keyed by the app's signing secret, with
 * `X-Slack-Request-Timestamp` within five minutes of now so that a captured request cannot be
 * replayed later.
 */
import { equalInConstantTime, hmacSha256, toHex, utf8 } from "./hmac.ts";
import { headerOf, type HeaderSource } from "./standard-webhooks.ts";

/** Slack's window, either way: an older (or newer) request is a replay. */
export const SLACK_TOLERANCE_SECONDS = 300;

export async function slackSignature(
  signingSecret: string,
  timestampSeconds: number | string,
  rawBody: string,
): Promise<string> {
  const mac = await hmacSha256(utf8(signingSecret), `v0:${timestampSeconds}:${rawBody}`);
  return `v0=${toHex(mac)}`;
}

export type SlackVerdict =
  { ok: true } | { ok: false; reason: "missing_headers" | "stale" | "bad_signature" };

const TIMESTAMP = /^\d{1,15}$/;

/**
 * The check of a request from Slack, on its body exactly as received (before any parsing):
 * `missing_headers` when a header is absent or the timestamp is not whole seconds, `stale` when
 * it is more than 300 s from now either way, `bad_signature` when the signature is not ours.
 */
export async function verifySlackRequest(input: {
  signingSecret: string;
  headers: HeaderSource;
  rawBody: string;
  nowSeconds: number;
}): Promise<SlackVerdict> {
  const timestamp = headerOf(input.headers, "x-slack-request-timestamp");
  const signature = headerOf(input.headers, "x-slack-signature");
  if (!timestamp || !signature || !TIMESTAMP.test(timestamp)) {
    return { ok: false, reason: "missing_headers" };
  }
  if (Math.abs(input.nowSeconds - Number(timestamp)) > SLACK_TOLERANCE_SECONDS) {
    return { ok: false, reason: "stale" };
  }
  // Signed over the timestamp exactly as sent, as Slack's own libraries do.
  const expected = await slackSignature(input.signingSecret, timestamp, input.rawBody);
  return equalInConstantTime(utf8(signature), utf8(expected))
    ? { ok: true }
    : { ok: false, reason: "bad_signature" };
}
