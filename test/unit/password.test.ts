import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  hashPassword,
  MAX_ITERATIONS,
  PASSWORD_ITERATIONS,
  verifyPassword,
} from "../../src/identity/password.ts";

describe("passwords", () => {
  it("stays within the production Workers PBKDF2 limit of 100,000 iterations", () => {
    expect(MAX_ITERATIONS).toBe(100_000);
    expect(PASSWORD_ITERATIONS).toBeLessThanOrEqual(100_000);
  });

  it("refuses to hash above the limit", async () => {
    await expect(hashPassword("correct horse", 100_001)).rejects.toThrow(RangeError);
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(stored).toMatchObject({ algorithm: "pbkdf2-sha256", iterations: PASSWORD_ITERATIONS });
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("salts every hash", async () => {
    const a = await hashPassword("same password", 1000);
    const b = await hashPassword("same password", 1000);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it("uses the iteration count stored beside the hash", async () => {
    const old = await hashPassword("legacy password", 1000);
    expect(await verifyPassword("legacy password", old)).toBe(true);
    expect(await verifyPassword("legacy password", { ...old, iterations: 2000 })).toBe(false);
  });

  it("compares without regard to where bytes differ", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });
});
