import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  generateWebhookSecret,
  parseWebhookSecret,
  signPayload,
  verifyWebhook,
  webhookHeaders,
} from "../../src/integrations/standard-webhooks.ts";

// The spec's published example (standardwebhooks.com, and the reference libraries' tests).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const NOW = 1_700_000_000;

/** The reference library's verdict; it reads the clock, which the tests set to NOW. */
function referenceAccepts(secret: string, body: string, headers: Record<string, string>) {
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the spec's test vector", () => {
  it("is what we sign, and what the reference library signs", async () => {
    const ours = await signPayload(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(ours).toBe(VECTOR.signature);
    const reference = new Webhook(VECTOR.secret).sign(
      VECTOR.id,
      new Date(VECTOR.timestamp * 1000),
      VECTOR.body,
    );
    expect(reference).toBe(VECTOR.signature);
  });

  it("verifies within five minutes of its timestamp and not after", async () => {
    const headers = {
      "webhook-id": VECTOR.id,
      "webhook-timestamp": String(VECTOR.timestamp),
      "webhook-signature": VECTOR.signature,
    };
    const check = (nowSeconds: number) =>
      verifyWebhook({ headers, body: VECTOR.body, secrets: [VECTOR.secret], nowSeconds });
    expect(await check(VECTOR.timestamp)).toEqual({ ok: true });
    expect(await check(VECTOR.timestamp + 300)).toEqual({ ok: true });
    expect(await check(VECTOR.timestamp + 301)).toEqual({ ok: false, reason: "stale" });
    expect(await check(VECTOR.timestamp - 301)).toEqual({ ok: false, reason: "future" });
  });
});

describe("secrets", () => {
  it("are whsec_ and base64 of 32 random bytes", () => {
    const secrets = Array.from({ length: 50 }, generateWebhookSecret);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(parseWebhookSecret(secret)).toHaveLength(32);
      expect(() => new Webhook(secret)).not.toThrow();
    }
    expect(new Set(secrets).size).toBe(50);
  });

  const base64Of = (length: number) => Buffer.alloc(length, 7).toString("base64");
  it.each([
    ["whsec_ and 24 bytes", `whsec_${base64Of(24)}`, 24],
    ["whsec_ and 64 bytes", `whsec_${base64Of(64)}`, 64],
    ["no prefix", base64Of(32), 32],
    ["no padding", `whsec_${base64Of(32).replace(/=+$/, "")}`, 32],
    ["23 bytes", `whsec_${base64Of(23)}`, undefined],
    ["65 bytes", `whsec_${base64Of(65)}`, undefined],
    ["empty", "whsec_", undefined],
    ["the URL-safe alphabet", `whsec_${"-_".repeat(22)}`, undefined],
    ["white space inside", `whsec_${base64Of(16)} ${base64Of(16)}`, undefined],
    ["a stray =", `whsec_=${base64Of(32)}`, undefined],
    ["another prefix", `whsec-${base64Of(32)}`, undefined],
  ])("%s", (_, text, bytes) => {
    expect(parseWebhookSecret(text)?.length).toBe(bytes);
  });

  it("signing with a malformed secret is a programming error, named", async () => {
    await expect(signPayload("whsec_short", "msg_1", NOW, "{}")).rejects.toThrow(
      /not a webhook secret/,
    );
  });
});

describe("webhookHeaders", () => {
  it("has the three headers and one v1 signature per secret", async () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = await webhookHeaders({
      id: "msg_1",
      timestampSeconds: NOW,
      body: "{}",
      secrets: [a, b],
    });
    expect(headers).toEqual({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(NOW),
      "webhook-signature": `${await signPayload(a, "msg_1", NOW, "{}")} ${await signPayload(b, "msg_1", NOW, "{}")}`,
      "content-type": "application/json",
    });
  });

  it("during a rotation, the reference library accepts them with either secret alone", async () => {
    const [old, current] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = JSON.stringify({ type: "message.posted", data: { text: "héllo ✓" } });
    const headers = await webhookHeaders({
      id: "msg_2",
      timestampSeconds: NOW,
      body,
      secrets: [old, current],
    });
    expect(referenceAccepts(old, body, headers)).toBe(true);
    expect(referenceAccepts(current, body, headers)).toBe(true);
    expect(referenceAccepts(generateWebhookSecret(), body, headers)).toBe(false);
    for (const secret of [old, current]) {
      expect(await verifyWebhook({ headers, body, secrets: [secret], nowSeconds: NOW })).toEqual({
        ok: true,
      });
    }
  });

  it("refuses an empty list of secrets", async () => {
    await expect(
      webhookHeaders({ id: "m", timestampSeconds: NOW, body: "", secrets: [] }),
    ).rejects.toThrow();
  });
});

describe("verifyWebhook", () => {
  const secret = generateWebhookSecret();
  const body = '{"type":"message.posted"}';
  const signed = () =>
    webhookHeaders({ id: "msg_3", timestampSeconds: NOW, body, secrets: [secret] });
  const verify = (headers: Headers | Record<string, string>, overrides: object = {}) =>
    verifyWebhook({ headers, body, secrets: [secret], nowSeconds: NOW, ...overrides });

  it("reads headers in any case, from a record or a Headers object", async () => {
    const headers = await signed();
    const shouting = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]),
    );
    expect(await verify(shouting)).toEqual({ ok: true });
    expect(await verify(new Headers(headers))).toEqual({ ok: true });
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
    "missing_headers without %s",
    async (name) => {
      const headers: Record<string, string> = { ...(await signed()) };
      delete headers[name];
      expect(await verify(headers)).toEqual({ ok: false, reason: "missing_headers" });
    },
  );

  it.each(["", "abc", "1.5", "-1", "1e9", ` ${NOW}`, "9".repeat(16)])(
    "missing_headers for the timestamp %j",
    async (timestamp) => {
      const headers = { ...(await signed()), "webhook-timestamp": timestamp };
      expect(await verify(headers)).toEqual({ ok: false, reason: "missing_headers" });
    },
  );

  it("takes any one matching v1 signature and ignores other versions", async () => {
    const headers = await signed();
    const good = headers["webhook-signature"];
    const forged = `v1,${Buffer.alloc(32).toString("base64")}`;
    const withSignature = (signature: string) =>
      verify({ ...headers, "webhook-signature": signature });
    expect(await withSignature(`${forged} ${good}`)).toEqual({ ok: true });
    expect(await withSignature(`v2,abc ${good} v1,not-base64!`)).toEqual({ ok: true });
    expect(await withSignature(good.replace("v1,", "v1a,"))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await withSignature(good.replace("v1,", "v2,"))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await withSignature(forged)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await withSignature(good.slice(0, -4))).toEqual({ ok: false, reason: "bad_signature" });
    expect(await withSignature("v1,")).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("is stale past the tolerance, future before it, and takes another tolerance", async () => {
    const headers = await signed();
    expect(await verify(headers, { nowSeconds: NOW + 301 })).toEqual({
      ok: false,
      reason: "stale",
    });
    expect(await verify(headers, { nowSeconds: NOW - 301 })).toEqual({
      ok: false,
      reason: "future",
    });
    expect(await verify(headers, { nowSeconds: NOW + 301, toleranceSeconds: 600 })).toEqual({
      ok: true,
    });
    expect(await verify(headers, { nowSeconds: NOW + 61, toleranceSeconds: 60 })).toEqual({
      ok: false,
      reason: "stale",
    });
  });

  it("names a bad secret before anything else", async () => {
    const headers = await signed();
    expect(await verify(headers, { secrets: [] })).toEqual({ ok: false, reason: "bad_secret" });
    expect(await verify(headers, { secrets: [secret, "whsec_nope"] })).toEqual({
      ok: false,
      reason: "bad_secret",
    });
    expect(await verify({}, { secrets: ["not a secret"] })).toEqual({
      ok: false,
      reason: "bad_secret",
    });
  });
});

describe("agreement with the reference library under tampering", () => {
  const tampering = fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({
      kind: fc.constant("flip body" as const),
      at: fc.nat(),
      by: fc.integer({ min: 1, max: 0xff }),
    }),
    fc.record({
      kind: fc.constant("other id" as const),
      id: fc.stringMatching(/^msg_[A-Za-z0-9]{1,24}$/),
    }),
    fc.record({
      kind: fc.constant("moved timestamp" as const),
      by: fc.integer({ min: -1000, max: 1000 }),
    }),
    fc.record({
      kind: fc.constant("forged" as const),
      bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    }),
    fc.record({ kind: fc.constant("replayed on another body" as const), body: fc.json() }),
  );
  type Tampering = typeof tampering extends fc.Arbitrary<infer T> ? T : never;

  function tamper(headers: Record<string, string>, body: string, change: Tampering) {
    switch (change.kind) {
      case "none":
        return { headers, body };
      case "flip body": {
        if (body.length === 0) return { headers, body: "x" };
        const at = change.at % body.length;
        const flipped = String.fromCharCode(body.charCodeAt(at) ^ change.by);
        return { headers, body: body.slice(0, at) + flipped + body.slice(at + 1) };
      }
      case "other id":
        return { headers: { ...headers, "webhook-id": change.id }, body };
      case "moved timestamp":
        return {
          headers: {
            ...headers,
            "webhook-timestamp": String(Number(headers["webhook-timestamp"]) + change.by),
          },
          body,
        };
      case "forged":
        return {
          headers: {
            ...headers,
            "webhook-signature": `v1,${Buffer.from(change.bytes).toString("base64")}`,
          },
          body,
        };
      case "replayed on another body":
        return { headers, body: change.body };
    }
  }

  it("accepts exactly what the reference accepts", async () => {
    const secret = generateWebhookSecret();
    await fc.assert(
      fc.asyncProperty(
        fc.json(),
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,24}$/),
        fc.integer({ min: -600, max: 600 }),
        tampering,
        async (body, id, age, change) => {
          const sent = await webhookHeaders({
            id,
            timestampSeconds: NOW - age,
            body,
            secrets: [secret],
          });
          const received = tamper(sent, body, change);
          const ours = await verifyWebhook({ ...received, secrets: [secret], nowSeconds: NOW });
          const reference = referenceAccepts(secret, received.body, received.headers);
          expect(ours.ok).toBe(reference);
          // Compared as what is signed: UTF-8 bytes (a lone surrogate and U+FFFD are alike).
          const untouched =
            Buffer.from(received.body).equals(Buffer.from(body)) &&
            JSON.stringify(received.headers) === JSON.stringify(sent);
          expect(ours.ok).toBe(untouched && Math.abs(age) <= 300);
        },
      ),
      { numRuns: 500 },
    );
  });
});
