import { describe, expect, it } from "vitest";
import { DeliveryLag } from "../../src/room/delivery-lag.ts";

describe("DeliveryLag", () => {
  it("measures a report against when the turn holding its seq left the room", () => {
    const lag = new DeliveryLag();
    lag.sent(3, 1_000);
    lag.sent(7, 1_100);
    lag.reported("a", 5, 1_400);
    expect(lag.lagMs(1_400)).toBe(300);
  });

  it("is the median of the clients' reports: one slow client does not make the room late", () => {
    const lag = new DeliveryLag();
    lag.sent(5, 0);
    lag.sent(10, 4_000);
    lag.reported("a", 10, 4_020);
    lag.reported("b", 10, 4_030);
    lag.reported("slow", 5, 4_030);
    expect(lag.lagMs(4_030)).toBe(30);
  });

  it("forgets reports older than two seconds and clients that left; no reports, no lag", () => {
    const lag = new DeliveryLag();
    lag.sent(1, 0);
    lag.reported("a", 1, 900);
    lag.reported("b", 1, 900);
    lag.forget("b");
    expect(lag.lagMs(1_000)).toBe(900);
    expect(lag.lagMs(3_000)).toBe(0);
  });

  it("ignores a report of a seq it never sent (a resumed client's replay)", () => {
    const lag = new DeliveryLag();
    lag.reported("a", 4, 100);
    lag.sent(2, 200);
    lag.reported("a", 4, 300);
    expect(lag.lagMs(300)).toBe(0);
  });
});
