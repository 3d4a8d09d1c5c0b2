import { describe, expect, it } from "vitest";
import { backoffDelay, CommandError, DEFAULT_BACKOFF, Outbox } from "../../src/client/index.ts";
import { CommandSender } from "../../src/client/command-sender.ts";
import { MAX_IN_FLIGHT, SEND_RATE } from "../../src/client/outbox.ts";
import { COMMAND_RATE } from "../../src/protocol/index.ts";

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
    outbox.unsendAll();
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["a", "c"]);
  });

  it("after overloaded keeps the command to send again, waiting at least as asked, longer each time", async () => {
    const outbox = new Outbox();
    const acked = outbox.add(post("c1"));
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c1"]);
    const waits = [1, 2, 3, 4].map(() => outbox.pushedBack("c1", 200)!);
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(200);
    // Full jitter over a doubling ceiling: the fourth wait may reach 200 + 1600.
    expect(Math.max(...waits)).toBeLessThan(200 + 1600);
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c1"]);
    outbox.ack("c1", 5);
    expect(await acked).toBe(5);
    expect(outbox.pushedBack("c1", 200)).toBeUndefined();
    expect(outbox.size).toBe(0);
  });

  it("sends each command once per socket, oldest first, the refused one with the newer ones", () => {
    const outbox = new Outbox();
    for (const id of ["a", "b"]) void outbox.add(post(id));
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["a", "b"]);
    void outbox.add(post("c"));
    outbox.pushedBack("a", 100);
    // The window is down to one, and b is on its way.
    expect(outbox.takeUnsent(0)).toEqual([]);
    outbox.ack("b", 1);
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["a", "c"]);
    expect(outbox.takeUnsent(0)).toEqual([]);
    outbox.unsendAll();
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["a", "c"]);
  });

  it("has at most MAX_IN_FLIGHT commands on their way; answers make room for the next", () => {
    const outbox = new Outbox();
    for (let i = 0; i < MAX_IN_FLIGHT + 5; i++) outbox.add(post(`c${i}`)).catch(() => undefined);
    expect(outbox.takeUnsent(0)).toHaveLength(MAX_IN_FLIGHT);
    expect(outbox.takeUnsent(0)).toEqual([]);
    outbox.ack("c0", 1);
    outbox.refuse("c1", "forbidden", "no");
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c20", "c21"]);
  });

  it("after a push-back sends one command at a time, then one more with each ack", () => {
    const outbox = new Outbox();
    for (let i = 0; i < 8; i++) outbox.add(post(`c${i}`)).catch(() => undefined);
    outbox.takeUnsent(0);
    for (let i = 0; i < 8; i++) outbox.pushedBack(`c${i}`, 100);
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c0"]);
    outbox.ack("c0", 1);
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c1", "c2"]);
    outbox.ack("c1", 2);
    outbox.ack("c2", 3);
    expect(outbox.takeUnsent(0).map((f) => f.clientId)).toEqual(["c3", "c4", "c5", "c6"]);
  });

  it("sends at SEND_RATE, under the contract's rate limit, and says when the next may go", () => {
    const outbox = new Outbox();
    for (let i = 0; i < 40; i++) outbox.add(post(`c${i}`)).catch(() => undefined);
    expect(outbox.takeUnsent(0)).toHaveLength(MAX_IN_FLIGHT);
    expect(outbox.paceMs(0)).toBe(0); // the window is full: the acks say when
    for (let i = 0; i < MAX_IN_FLIGHT; i++) outbox.ack(`c${i}`, i + 1);
    expect(outbox.takeUnsent(0)).toHaveLength(SEND_RATE.burst - MAX_IN_FLIGHT);
    expect(outbox.paceMs(0)).toBe(Math.ceil(1000 / SEND_RATE.perSecond));
    expect(outbox.takeUnsent(1000).map((f) => f.clientId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `c${30 + i}`),
    );
    expect(SEND_RATE.perSecond).toBeLessThan(COMMAND_RATE.perSecond);
    expect(SEND_RATE.burst).toBeLessThan(COMMAND_RATE.burst);
  });

  it("refuses at once, as overloaded, past its bound", async () => {
    const outbox = new Outbox(2);
    void outbox.add(post("a"));
    void outbox.add(post("b"));
    await expect(outbox.add(post("c"))).rejects.toMatchObject({ code: "overloaded" });
    outbox.ack("a", 1);
    void outbox.add(post("c"));
    expect(outbox.size).toBe(2);
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

describe("CommandSender", () => {
  const post = (clientId: string) => ({ type: "post" as const, clientId, text: "hi" });
  const paceMs = Math.ceil(1000 / SEND_RATE.perSecond);

  it("arms its timer at once, never with a negative delay, when writing took past the next send", async () => {
    // Node warns (TimeoutNegativeWarning) and waits 1 ms when setTimeout is given a delay < 0.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    const written: string[] = [];
    const sender = new CommandSender(
      (command) => {
        written.push(command.clientId);
        // The burst's last write holds the thread past the next token (a busy page, a slow
        // socket): the time the pace asked for is behind us by the time the timer is armed.
        if (written.length === SEND_RATE.burst) {
          const until = Date.now() + paceMs + 20;
          while (Date.now() < until);
        }
      },
      () => true,
    );
    try {
      for (let i = 0; i <= SEND_RATE.burst; i++) sender.outbox.add(post(`c${i}`)).catch(() => {});
      sender.send();
      expect(written).toHaveLength(MAX_IN_FLIGHT);
      for (let i = 0; i < MAX_IN_FLIGHT; i++) sender.outbox.ack(`c${i}`, i + 1);
      sender.send();
      expect(written).toHaveLength(SEND_RATE.burst);
      await expect
        .poll(() => written.length, { timeout: 1000, interval: 5 })
        .toBe(SEND_RATE.burst + 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain("TimeoutNegativeWarning");
    } finally {
      sender.stop();
      process.off("warning", onWarning);
    }
  });
});
