import { describe, expect, it } from "vitest";
import {
  DECOY_DIGEST,
  formatServiceKey,
  isServiceKey,
  keyDigest,
  keyRefusal,
  keyStatus,
  newServiceId,
  newServiceKey,
  parseServiceKey,
  rotatedExpiry,
  sameDigest,
  shouldTouch,
  TOUCH_EVERY_MS,
} from "../../src/identity/service-key.ts";
import {
  can,
  normalScope,
  refusal,
  roomInScope,
  SERVICE_ACTIONS,
  ServiceScope,
  ServiceId,
  RotateKey,
  OVERLAP_MAX_SECONDS,
} from "../../src/protocol/index.ts";

const NOW = 1_800_000_000_000;

describe("the key format", () => {
  it("round-trips a fresh key: 16 hex characters of id, 43 of base64url secret", () => {
    const key = newServiceKey();
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(key.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const text = formatServiceKey(key);
    expect(text.startsWith("ecsk_")).toBe(true);
    expect(isServiceKey(text)).toBe(true);
    expect(parseServiceKey(text)).toEqual(key);
    expect(newServiceKey().keyId).not.toBe(key.keyId);
    expect(ServiceId.safeParse(newServiceId()).success).toBe(true);
  });

  it("keeps a secret that has underscores in it whole", () => {
    const key = { keyId: "0123456789abcdef", secret: `_${"a".repeat(40)}_-` };
    expect(parseServiceKey(formatServiceKey(key))).toEqual(key);
  });

  it("refuses anything else", () => {
    const secret = "A".repeat(43);
    for (const text of [
      "",
      "ecsk_",
      `ecsk_0123456789abcde_${secret}`, // 15 hex
      `ecsk_0123456789ABCDEF_${secret}`, // upper case
      `ecsk_0123456789abcdef_${secret}A`, // 44
      `ecsk_0123456789abcdef_${"A".repeat(42)}`,
      `ecsk_0123456789abcdef_${"A".repeat(42)}=`,
      `ecsk_0123456789abcdef.${secret}`,
      `xcsk_0123456789abcdef_${secret}`,
      ` ecsk_0123456789abcdef_${secret}`,
    ])
      expect(parseServiceKey(text), text).toBeUndefined();
    expect(isServiceKey("eyJhbGciOi")).toBe(false);
  });

  it("stores SHA-256 of the secret, hex", async () => {
    expect(await keyDigest("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(DECOY_DIGEST).toHaveLength(64);
  });

  it("compares digests whole", () => {
    const a = "ab".repeat(32);
    expect(sameDigest(a, a)).toBe(true);
    expect(sameDigest(a, `${a.slice(0, 63)}c`)).toBe(false);
    expect(sameDigest(a, `c${a.slice(1)}`)).toBe(false);
    expect(sameDigest(a, a.slice(1))).toBe(false);
    expect(sameDigest(a, DECOY_DIGEST)).toBe(false);
  });
});

describe("when a key may be used", () => {
  const active = { expiresAt: null, revokedAt: null };
  const enabled = { disabledAt: null };

  it("an active key of an enabled service", () => {
    expect(keyStatus(active, NOW)).toBe("active");
    expect(keyRefusal(active, enabled, NOW)).toBeUndefined();
  });

  it("a rotated key until its overlap ends, and not from that millisecond on", () => {
    const rotated = { expiresAt: NOW + 1000, revokedAt: null };
    expect(keyStatus(rotated, NOW)).toBe("expiring");
    expect(keyRefusal(rotated, enabled, NOW + 999)).toBeUndefined();
    expect(keyStatus(rotated, NOW + 1000)).toBe("expired");
    expect(keyRefusal(rotated, enabled, NOW + 1000)).toMatch(/expired/);
  });

  it("never a revoked key, nor any key of a disabled service", () => {
    expect(keyRefusal({ expiresAt: NOW + 1000, revokedAt: NOW }, enabled, NOW)).toMatch(/revoked/);
    expect(keyStatus({ expiresAt: null, revokedAt: NOW }, NOW)).toBe("revoked");
    expect(keyRefusal(active, { disabledAt: NOW - 1 }, NOW)).toMatch(/disabled/);
  });

  it("writes last-used at most once a minute", () => {
    expect(shouldTouch(null, NOW)).toBe(true);
    expect(shouldTouch(NOW - TOUCH_EVERY_MS + 1, NOW)).toBe(false);
    expect(shouldTouch(NOW - TOUCH_EVERY_MS, NOW)).toBe(true);
  });

  it("rotation sets the overlap from now and never lengthens a key's life", () => {
    expect(rotatedExpiry(null, NOW, 3600)).toBe(NOW + 3_600_000);
    expect(rotatedExpiry(NOW + 60_000, NOW, 3600)).toBe(NOW + 60_000);
    expect(rotatedExpiry(NOW + 60_000_000, NOW, 3600)).toBe(NOW + 3_600_000);
    expect(rotatedExpiry(null, NOW, 0)).toBe(NOW);
  });
});

describe("scopes", () => {
  const parse = (value: unknown) => {
    const parsed = ServiceScope.safeParse(value);
    if (parsed.success) return parsed.data;
    // As the router words a 400: the first issue, after where it is.
    const issue = parsed.error.issues[0]!;
    return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
  };

  it("name rooms or every room, actions up to a moderator's, and a role", () => {
    expect(parse({ rooms: ["lobby"], actions: ["post"], role: "member" })).toEqual({
      rooms: ["lobby"],
      actions: ["post"],
      role: "member",
    });
    expect(parse({ rooms: "*", actions: ["post", "kick"], role: "moderator" })).toMatchObject({
      rooms: "*",
    });
    expect(roomInScope("*", "any")).toBe(true);
    expect(roomInScope(["a", "b"], "b")).toBe(true);
    expect(roomInScope(["a", "b"], "c")).toBe(false);
    expect(roomInScope([], "a")).toBe(false);
  });

  it("never give an owner's action, nor a moderator's to a member-role service", () => {
    expect(SERVICE_ACTIONS).not.toContain("transfer");
    expect(SERVICE_ACTIONS).not.toContain("role");
    expect(SERVICE_ACTIONS).not.toContain("audit");
    expect(SERVICE_ACTIONS).toContain("list_bans");
    expect(parse({ rooms: "*", actions: ["transfer"], role: "moderator" })).toMatch(
      /actions\.0: not an action a service may be given: "transfer"/,
    );
    expect(parse({ rooms: "*", actions: ["post", "kick"], role: "member" })).toMatch(
      /^role: an action in this scope needs the moderator role/,
    );
    expect(parse({ rooms: "*", actions: ["post"], role: "owner" })).toMatch(/^role:/);
  });

  it("refuse empty lists, too many rooms, bad names and unknown fields", () => {
    expect(parse({ rooms: [], actions: ["post"], role: "member" })).toMatch(/^rooms/);
    expect(parse({ rooms: ["a"], actions: [], role: "member" })).toMatch(/^actions: give at least/);
    const many = Array.from({ length: 21 }, (_, i) => `r${i}`);
    expect(parse({ rooms: many, actions: ["post"], role: "member" })).toMatch(/^rooms/);
    expect(parse({ rooms: ["Not A Room"], actions: ["post"], role: "member" })).toMatch(/^rooms/);
    expect(parse({ rooms: "*", actions: ["post"], role: "member", admin: true })).toMatch(/admin/);
  });

  it("are stored with each room and action once", () => {
    expect(
      normalScope({ rooms: ["a", "b", "a"], actions: ["post", "post", "react"], role: "member" }),
    ).toEqual({ rooms: ["a", "b"], actions: ["post", "react"], role: "member" });
  });

  it("narrow `can`: an action outside the scope is refused whatever the role", () => {
    const scoped = { role: "moderator" as const, scope: ["post", "kick"] as const };
    expect(can(scoped, "post")).toBe(true);
    expect(can(scoped, "kick", { role: "member" })).toBe(true);
    expect(refusal(scoped, "ban")).toEqual({
      code: "forbidden",
      message: 'this service\'s scope does not include "ban"',
    });
    // In scope but above the role: the rank's refusal.
    expect(refusal({ role: "member", scope: ["kick"] }, "kick")?.message).toMatch(/moderators/);
  });

  it("rotation overlaps default to 24 h, at most 30 days", () => {
    expect(RotateKey.parse({})).toEqual({ overlapSeconds: 86_400 });
    expect(RotateKey.safeParse({ overlapSeconds: OVERLAP_MAX_SECONDS + 1 }).success).toBe(false);
    expect(RotateKey.safeParse({ overlapSeconds: -1 }).success).toBe(false);
    expect(RotateKey.safeParse({ overlapSeconds: 1.5 }).success).toBe(false);
    expect(RotateKey.parse({ overlapSeconds: 0 })).toEqual({ overlapSeconds: 0 });
  });
});
