import { describe, expect, it } from "vitest";
import { lockoutSeconds } from "../../src/account/lockout.ts";
import {
  formatRefreshToken,
  newSecret,
  newSessionId,
  parseRefreshToken,
} from "../../src/identity/refresh-token.ts";
import { assertConfigured } from "../../src/config.ts";
import { nextBlock, type Strikes } from "../../src/limits/blocks.ts";

describe("refresh tokens", () => {
  it("round-trip through their text form", () => {
    const token = { account: "ada.lovelace", sid: newSessionId(), secret: newSecret() };
    expect(parseRefreshToken(formatRefreshToken(token))).toEqual(token);
  });

  it("refuse anything else", () => {
    const good = formatRefreshToken({ account: "ada", sid: newSessionId(), secret: newSecret() });
    for (const bad of [
      "",
      "rt1",
      good + ".x",
      good.replace("rt1", "rt2"),
      good.slice(0, -1),
      "rt1.YWRh.zz.zz",
      "a.b.c.d",
    ]) {
      expect(parseRefreshToken(bad)).toBeUndefined();
    }
  });
});

describe("account lockout", () => {
  const WINDOW = 60_000;
  it("allows attempts until the limit of failures within the window", () => {
    expect(lockoutSeconds([], 0, WINDOW, 5)).toBe(0);
    expect(lockoutSeconds([1, 2, 3, 4], 10, WINDOW, 5)).toBe(0);
  });

  it("locks until the oldest counted failure leaves the window", () => {
    expect(lockoutSeconds([1_000, 2_000, 3_000, 4_000, 5_000], 10_000, WINDOW, 5)).toBe(51);
    expect(lockoutSeconds([1_000, 2_000, 3_000, 4_000, 5_000], 61_001, WINDOW, 5)).toBe(0);
  });

  it("forgets failures older than the window", () => {
    expect(lockoutSeconds([0, 1, 2, 3, 70_000], 70_001, WINDOW, 5)).toBe(0);
  });
});

describe("per-IP throttle", () => {
  const WINDOW = 10_000;
  const run = (times: number[], limit = 3) => {
    let state: Strikes | undefined;
    return times.map((now) => {
      const next = nextBlock(state, now, limit, WINDOW);
      state = next.state;
      return next.waitSeconds;
    });
  };

  it("allows `limit` attempts per window, then blocks for a window", () => {
    expect(run([0, 1, 2, 3, 4])).toEqual([0, 0, 0, 10, 10]);
    expect(run([0, 1, 2, 3, 10_004])).toEqual([0, 0, 0, 10, 0]);
  });

  it("doubles the block for a key that comes straight back over the limit", () => {
    const waits = run([0, 1, 2, 3, 10_003, 10_004, 10_005, 10_006]);
    expect(waits).toEqual([0, 0, 0, 10, 0, 0, 0, 20]);
  });

  it("forgives after a quiet window", () => {
    const waits = run([0, 1, 2, 3, 40_000, 40_001, 40_002, 40_003]);
    expect(waits.at(-1)).toBe(10);
  });
});

describe("configuration at start", () => {
  it("stops a production worker without a secret, naming it", () => {
    expect(() => assertConfigured({ ENVIRONMENT: "production" })).toThrow(/JWT_SECRET/);
    expect(() => assertConfigured({ ENVIRONMENT: "production", JWT_SECRET: "short" })).toThrow(
      /at least 32/,
    );
  });

  it("lets development start and fail later with a clear error instead", () => {
    expect(() => assertConfigured({})).not.toThrow();
    expect(() =>
      assertConfigured({ ENVIRONMENT: "production", JWT_SECRET: "x".repeat(32) }),
    ).not.toThrow();
  });
});
