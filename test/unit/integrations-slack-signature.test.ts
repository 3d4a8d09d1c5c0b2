import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { slackSignature, verifySlackRequest } from "../../src/integrations/slack-signature.ts";

// Slack's documented example ("Verifying requests from Slack").
const EXAMPLE = {
  signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: 1531420618,
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};

const headersOf = (timestamp: number | string, signature: string) => ({
  "X-Slack-Request-Timestamp": String(timestamp),
  "X-Slack-Signature": signature,
});

const verify = (input: {
  headers: Headers | Record<string, string>;
  rawBody?: string;
  nowSeconds?: number;
}) =>
  verifySlackRequest({
    signingSecret: EXAMPLE.signingSecret,
    rawBody: EXAMPLE.body,
    nowSeconds: EXAMPLE.timestamp + 10,
    ...input,
  });

describe("Slack's documented example", () => {
  it("is what we sign", async () => {
    expect(await slackSignature(EXAMPLE.signingSecret, EXAMPLE.timestamp, EXAMPLE.body)).toBe(
      EXAMPLE.signature,
    );
  });

  it("verifies, from a record or a Headers object, in any case", async () => {
    const headers = headersOf(EXAMPLE.timestamp, EXAMPLE.signature);
    expect(await verify({ headers })).toEqual({ ok: true });
    expect(await verify({ headers: new Headers(headers) })).toEqual({ ok: true });
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(await verify({ headers: lower })).toEqual({ ok: true });
  });
});

describe("verifySlackRequest", () => {
  const headers = headersOf(EXAMPLE.timestamp, EXAMPLE.signature);

  it("is stale more than 300 s from now, either way", async () => {
    for (const [offset, verdict] of [
      [300, { ok: true }],
      [-300, { ok: true }],
      [301, { ok: false, reason: "stale" }],
      [-301, { ok: false, reason: "stale" }],
      [86_400, { ok: false, reason: "stale" }],
    ] as const) {
      expect(await verify({ headers, nowSeconds: EXAMPLE.timestamp + offset })).toEqual(verdict);
    }
  });

  it("refuses a forged signature, a signature of another secret, a tampered timestamp", async () => {
    const forged = `v0=${"0".repeat(64)}`;
    expect(await verify({ headers: headersOf(EXAMPLE.timestamp, forged) })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    const otherSecret = await slackSignature("another secret", EXAMPLE.timestamp, EXAMPLE.body);
    expect(await verify({ headers: headersOf(EXAMPLE.timestamp, otherSecret) })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verify({ headers: headersOf(EXAMPLE.timestamp + 1, EXAMPLE.signature) })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(
      await verify({ headers: headersOf(EXAMPLE.timestamp, EXAMPLE.signature.toUpperCase()) }),
    ).toEqual({ ok: false, reason: "bad_signature" });
    expect(
      await verify({
        headers: headersOf(EXAMPLE.timestamp, EXAMPLE.signature.replace("v0=", "v1=")),
      }),
    ).toEqual({ ok: false, reason: "bad_signature" });
    expect(
      await verify({ headers: headersOf(EXAMPLE.timestamp, EXAMPLE.signature.slice(0, -1)) }),
    ).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses the example's headers replayed on another body", async () => {
    const replayed = EXAMPLE.body.replace("text=", "text=deploy%20prod");
    expect(await verify({ headers, rawBody: replayed })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it.each([
    ["no timestamp", { "X-Slack-Signature": EXAMPLE.signature }],
    ["no signature", { "X-Slack-Request-Timestamp": String(EXAMPLE.timestamp) }],
    ["an empty signature", headersOf(EXAMPLE.timestamp, "")],
    [
      "a timestamp that is not whole seconds",
      headersOf(`${EXAMPLE.timestamp}.5`, EXAMPLE.signature),
    ],
    ["a timestamp in words", headersOf("now", EXAMPLE.signature)],
  ])("missing_headers with %s", async (_, headers) => {
    expect(await verify({ headers })).toEqual({ ok: false, reason: "missing_headers" });
  });

  it("accepts its own signatures and refuses them on any other body (fuzzed)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.string({ unit: "binary" }),
        fc.string({ unit: "binary" }),
        fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
        async (secret, body, other, timestamp) => {
          const signature = await slackSignature(secret, timestamp, body);
          expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);
          const check = (rawBody: string) =>
            verifySlackRequest({
              signingSecret: secret,
              headers: headersOf(timestamp, signature),
              rawBody,
              nowSeconds: timestamp,
            });
          expect(await check(body)).toEqual({ ok: true });
          const sameBytes = Buffer.from(other).equals(Buffer.from(body));
          expect((await check(other)).ok).toBe(sameBytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
