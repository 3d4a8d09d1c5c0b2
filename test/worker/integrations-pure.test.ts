import { describe, expect, it } from "vitest";
import { checkOutboundUrl } from "../../src/integrations/outbound-url.ts";
import { slackSignature, verifySlackRequest } from "../../src/integrations/slack-signature.ts";
import { readIncomingBody, toMessageText } from "../../src/integrations/slack-format.ts";
import {
  generateWebhookSecret,
  parseWebhookSecret,
  signPayload,
  verifyWebhook,
  webhookHeaders,
} from "../../src/integrations/standard-webhooks.ts";
import { OUTBOUND_URLS } from "../fixtures/outbound-urls.ts";

// The pure rules run in workerd as they do in Node (their unit tests): WebCrypto, atob/btoa and
// the URL parser are the runtime's own here.
describe("integrations' pure rules inside workerd", () => {
  it("signs the Standard Webhooks test vector and verifies a rotation", async () => {
    const signature = await signPayload(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    expect(parseWebhookSecret(secrets[0]!)).toHaveLength(32);
    const headers = await webhookHeaders({
      id: "msg_1",
      timestampSeconds: 1000,
      body: "{}",
      secrets,
    });
    for (const secret of secrets) {
      expect(
        await verifyWebhook({
          headers: new Headers(headers),
          body: "{}",
          secrets: [secret],
          nowSeconds: 1000,
        }),
      ).toEqual({ ok: true });
    }
    expect(await verifyWebhook({ headers, body: "{ }", secrets, nowSeconds: 1000 })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("signs Slack's documented example", async () => {
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const signature = await slackSignature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body);
    expect(signature).toBe("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    const headers = { "X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": signature };
    const verify = (nowSeconds: number) =>
      verifySlackRequest({
        signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
        headers,
        rawBody: body,
        nowSeconds,
      });
    expect(await verify(1531420618)).toEqual({ ok: true });
    expect(await verify(1531420618 + 301)).toEqual({ ok: false, reason: "stale" });
  });

  it.each(OUTBOUND_URLS)(
    "checkOutboundUrl %s (loopback allowed: %s)",
    (raw, allowLoopback, expected) => {
      const verdict = checkOutboundUrl(raw, { allowLoopback });
      if (expected === true) expect(verdict.ok).toBe(true);
      else {
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.reason).toMatch(expected);
      }
    },
  );

  it("reads a payload= form body into message text", () => {
    const read = readIncomingBody(
      "application/x-www-form-urlencoded",
      `payload=${encodeURIComponent('{"text":"<https://x.example|x> &amp; y"}')}`,
    );
    expect(read.ok && toMessageText(read.body)).toEqual({
      ok: true,
      text: "x (https://x.example) & y",
      truncated: false,
    });
  });
});
