import { describe, expect, it } from "vitest";
import { backoffDelay, CommandError, DEFAULT_BACKOFF, Outbox } from "../../src/client/index.ts";

describe("backoffDelay", () => {
  it("grows exponentially from 250 ms and caps at 15 s", () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((attempt) =>
      backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999999),
    );
    expect(ceilings).toEqual([249, 499, 999, 1999, 3999, 7999, 14999, 14999, 14999]);
  });

  it("spreads clients over the whole window (full jitter)", () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, DEFAULT_BACKOFF));
    expect(Math.min(...delays)).toBeLessThan(400);
    expect(Math.max(...delays)).toBeGreaterThan(3600);
    expect(delays.every((d) => d >= 0 && d < 4000)).toBe(true);
  });
});

describe("Outbox", () => {
  const post = (clientId: string) => ({ type: "post" as const, clientId, text: "hi" });

  it("resolves a command with its acked seq and forgets it", async () => {
    const outbox = new Outbox();
    const acked = outbox.add(post("a"));
    expect(outbox.size).toBe(1);
    expect(outbox.ack("a", 7)).toBe(true);
    await expect(acked).resolves.toBe(7);
    expect(outbox.size).toBe(0);
    expect(outbox.ack("a", 7)).toBe(false);
  });

  it("keeps unacked commands, oldest first, for the resend after a reconnect", () => {
    const outbox = new Outbox();
    void outbox.add(post("a"));
    void outbox.add(post("b"));
    void outbox.add(post("c"));
    outbox.ack("b", 2);
    expect(outbox.frames().map((f) => f.clientId)).toEqual(["a", "c"]);
  });

  it("rejects a refused command with the contract's code", async () => {
    const outbox = new Outbox();
    const refused = outbox.add(post("a"));
    outbox.refuse("a", "forbidden", "not yours");
    await expect(refused).rejects.toMatchObject({
      name: "CommandError",
      code: "forbidden",
      clientId: "a",
    });
  });

  it("refuses a second command with a pending clientId", async () => {
    const outbox = new Outbox();
    void outbox.add(post("a"));
    await expect(outbox.add(post("a"))).rejects.toBeInstanceOf(CommandError);
  });

  it("fails everything when the client gives up", async () => {
    const outbox = new Outbox();
    const pending = [outbox.add(post("a")), outbox.add(post("b"))];
    outbox.failAll("closed", "bye");
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: "closed" });
    expect(outbox.size).toBe(0);
  });
});
