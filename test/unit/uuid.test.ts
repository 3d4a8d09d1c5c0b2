import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/room/uuid.ts";

describe("uuidv7", () => {
  it("is an RFC 9562 version 7 UUID whose first 48 bits are the time in ms", () => {
    const now = 0x0192_3456_789a;
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id.replace(/-/g, "").slice(0, 12)).toBe(now.toString(16).padStart(12, "0"));
  });

  it("sorts by time and does not repeat", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(ids.toSorted()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7(1)))).toHaveProperty("size", 1000);
  });
});
