import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Draft } from "../../src/plugins/api.ts";
import { instrument } from "../../src/plugins/instrument.ts";
import type { Outcome } from "../../src/plugins/outcomes.ts";
import { PluginRunner, type PluginRef, type SandboxExports } from "../../src/plugins/runner.ts";
import { STRIKES } from "../../src/plugins/strikes.ts";
import {
  ALLOCATES_BUFFERS,
  ALLOCATES_FOREVER,
  ANSWERS_NONSENSE,
  AWAITS_FOREVER,
  AWAITS_TOO_LONG,
  CATCHES_ITS_LIMIT,
  FETCHES,
  FETCHES_TOO_OFTEN,
  LEAKS,
  LITTERS,
  LOOPS_FOREVER,
  RECURSES_FOREVER,
  THROWS,
  WELL_BEHAVED,
  type PluginSource,
} from "../fixtures/plugins.ts";
import { call, guest, newRoom } from "./helpers.ts";

/**
 * The runner inside workerd, as a room uses it: each plugin in a Dynamic Worker of its own
 * through the real Worker Loader, with the worker's own PluginStore and PluginOutbound as its
 * capabilities. Every misbehaving plugin gets its outcome, and the worker goes on: another
 * plugin runs after it, and another room answers while it runs.
 */

let plugins = 0;
/** A runner for `room` with the given plugins installed (instrumented as at install). */
function setup(room: string, sources: Record<string, PluginSource>, wallMs = {}) {
  const code = new Map<string, string>();
  const refs: Record<string, PluginRef> = {};
  for (const [name, source] of Object.entries(sources)) {
    const id = `${name}-${++plugins}`;
    const metered = instrument(source(id));
    if (!metered.ok) throw new Error(metered.problem);
    code.set(id, metered.code);
    refs[name] = { id, version: "1.0.0", hosts: [] };
  }
  const runner = new PluginRunner({
    loader: env.LOADER,
    exports: exports as unknown as SandboxExports,
    room,
    code: async (ref) => code.get(ref.id)!,
    wallMs,
  });
  return { runner, refs };
}

const draft = (text: string, room = "lobby"): Draft => ({
  kind: "post",
  text,
  author: { id: "u1", name: "ada" },
  room,
});

function expectFailure<T>(outcome: Outcome<T>, kind: string, message: RegExp) {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ outcome: kind });
  if (outcome.outcome !== "ok") expect(outcome.message).toMatch(message);
}

// The pool's first call to a Durable Object class takes seconds (the module starts): made here,
// so that no plugin's first store call pays it inside its 250 ms.
beforeAll(async () => {
  await env.PLUGIN_STORAGE.getByName("warm/up").get("warm");
}, 30_000);

describe("the plugin runner", () => {
  it("runs a well-behaved plugin's hooks, command and store", async () => {
    const { runner, refs } = setup("lobby", { good: WELL_BEHAVED });
    const good = refs.good!;
    expect(await runner.beforeCommit(good, draft("oh darn it"))).toMatchObject({
      outcome: "ok",
      value: { rewrite: "oh **** it" },
    });
    expect(await runner.beforeCommit(good, draft("fine"))).toMatchObject({
      outcome: "ok",
      value: { allow: true },
    });
    expect(await runner.beforeCommit(good, draft("forbidden"))).toMatchObject({
      outcome: "ok",
      value: { refuse: "that word is not allowed here" },
    });
    const event = {
      seq: 7,
      type: "message.posted",
      at: 1,
      author: { id: "u1", name: "ada" },
      data: {},
    };
    expect(await runner.afterEvent(good, event)).toMatchObject({
      outcome: "ok",
      value: [{ react: 7, emoji: "👀" }],
    });
    const reply = await runner.command(good, {
      command: "count",
      args: "",
      user: { id: "u2", name: "bob" },
      room: "lobby",
    });
    expect(reply).toMatchObject({
      outcome: "ok",
      value: { text: "2 posts in lobby (1 keys), asked by bob" },
    });
    expect(await runner.job(good, "tidy")).toMatchObject({ outcome: "ok", value: [] });
  });

  it("keeps each room's store apart", async () => {
    const { runner, refs } = setup("room-a", { good: WELL_BEHAVED });
    const other = new PluginRunner({
      loader: env.LOADER,
      exports: exports as unknown as SandboxExports,
      room: "room-b",
      code: async () => instrumentOrThrow(WELL_BEHAVED(refs.good!.id)),
    });
    await runner.beforeCommit(refs.good!, draft("one"));
    await runner.beforeCommit(refs.good!, draft("two"));
    const count = { command: "count", args: "", user: { id: "u", name: "u" } };
    expect(await runner.command(refs.good!, { ...count, room: "room-a" })).toMatchObject({
      value: { text: expect.stringMatching(/^2 posts in room-a/) },
    });
    expect(await other.command(refs.good!, { ...count, room: "room-b" })).toMatchObject({
      value: { text: expect.stringMatching(/^0 posts in room-b/) },
    });
  });

  it("reports a plugin that throws", async () => {
    const { runner, refs } = setup("lobby", { throws: THROWS, good: WELL_BEHAVED });
    expectFailure(await runner.beforeCommit(refs.throws!, draft("x")), "threw", /the plugin broke/);
    expect(await runner.beforeCommit(refs.good!, draft("x"))).toMatchObject({ outcome: "ok" });
  });

  it("stops a plugin that loops forever, and the worker goes on", async () => {
    const { runner, refs } = setup("lobby", { loops: LOOPS_FOREVER, good: WELL_BEHAVED });
    const started = Date.now();
    expectFailure(
      await runner.beforeCommit(refs.loops!, draft("x")),
      "refused-by-limit",
      /loop iterations and function calls/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await runner.beforeCommit(refs.good!, draft("x"))).toMatchObject({ outcome: "ok" });
    // The same sandbox takes the next call: the limit was the call's, not the isolate's.
    expectFailure(await runner.beforeCommit(refs.loops!, draft("x")), "refused-by-limit", /loop/);
  });

  it("stops a recursion that never ends", async () => {
    const { runner, refs } = setup("lobby", { recurses: RECURSES_FOREVER });
    expectFailure(
      await runner.beforeCommit(refs.recurses!, draft("x")),
      "refused-by-limit",
      /PluginLimit/,
    );
  });

  it("reports the limit even when the plugin catches it", async () => {
    const { runner, refs } = setup("lobby", { catches: CATCHES_ITS_LIMIT });
    expectFailure(await runner.beforeCommit(refs.catches!, draft("x")), "refused-by-limit", /loop/);
  });

  it("stops a plugin that allocates without end, before the process runs out of memory", async () => {
    const { runner, refs } = setup("lobby", {
      arrays: ALLOCATES_FOREVER,
      buffers: ALLOCATES_BUFFERS,
      good: WELL_BEHAVED,
    });
    expectFailure(
      await runner.beforeCommit(refs.arrays!, draft("x")),
      "refused-by-limit",
      /allocated more than 32 MiB in one hook call/,
    );
    expectFailure(
      await runner.beforeCommit(refs.buffers!, draft("x")),
      "refused-by-limit",
      /allocated more than 32 MiB/,
    );
    expect(await runner.beforeCommit(refs.good!, draft("x"))).toMatchObject({ outcome: "ok" });
  });

  it("replaces an isolate that holds more than its budget, and loses no call", async () => {
    const { runner, refs } = setup("lobby", { leaks: LEAKS, litters: LITTERS });
    const held: unknown[] = [];
    for (let i = 0; i < 7; i++) {
      const outcome = await runner.beforeCommit(refs.leaks!, draft("x"));
      held.push(outcome.outcome === "ok" ? outcome.value : outcome.outcome);
    }
    // 16 MiB kept per call (and what each call allocates besides): after the fourth, the isolate
    // holds more than 64 MiB, and a fresh one takes the fifth call.
    expect(held).toEqual(["1", "2", "3", "4", "1", "2", "3"].map((n) => ({ rewrite: n })));
    // Garbage counts as held until the collector says otherwise (which workerd's rarely does in
    // time): a plugin that only litters is moved to a fresh isolate now and then, and never fails.
    for (let i = 0; i < 20; i++) {
      expect(await runner.beforeCommit(refs.litters!, draft("x"))).toMatchObject({ outcome: "ok" });
    }
  });

  it("times out a plugin that waits on something that never comes", async () => {
    const { runner, refs } = setup("lobby", { awaits: AWAITS_FOREVER, good: WELL_BEHAVED });
    const started = Date.now();
    // workerd cancels a call that waits on nothing: sooner than the budget.
    expectFailure(await runner.beforeCommit(refs.awaits!, draft("x")), "timeout", /hung/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await runner.beforeCommit(refs.good!, draft("x"))).toMatchObject({ outcome: "ok" });
  });

  it("times out a plugin that waits too long, and the room does not wait past the budget", async () => {
    const room = `timeout-${crypto.randomUUID().slice(0, 8)}`;
    const { runner, refs } = setup(room, { awaits: AWAITS_TOO_LONG, good: WELL_BEHAVED });
    const started = Date.now();
    const pending = runner.beforeCommit(refs.awaits!, draft("x"));
    // Meanwhile the worker answers for another room.
    const owner = await guest("otto");
    const other = await newRoom(owner, "other");
    const res = await call(`/api/rooms/${other}`, { token: owner.token });
    expect(res.status).toBe(200);
    const outcome = await pending;
    const waited = Date.now() - started;
    expectFailure(outcome, "timeout", /no answer within 250 ms/);
    expect(waited).toBeGreaterThanOrEqual(240);
    expect(waited).toBeLessThan(1500);
    expect(await runner.beforeCommit(refs.good!, draft("x"))).toMatchObject({ outcome: "ok" });
  });

  it("gives a plugin with no hosts no network", async () => {
    const { runner, refs } = setup("lobby", { fetches: FETCHES("https://example.com/") });
    expectFailure(
      await runner.beforeCommit(refs.fetches!, draft("x")),
      "threw",
      /not permitted to access the internet/,
    );
  });

  it("refuses hosts that were not granted, and private addresses even when granted", async () => {
    const code = new Map([
      ["elsewhere-1", FETCHES("https://not-granted.example/", ["api.example.com"])],
      ["private-1", FETCHES("https://10.0.0.1/", ["10.0.0.1"])],
      ["http-1", FETCHES("http://api.example.com/", ["api.example.com"])],
    ]);
    const granted = new PluginRunner({
      loader: env.LOADER,
      exports: exports as unknown as SandboxExports,
      room: "lobby",
      code: async (ref) => instrumentOrThrow(code.get(ref.id)!(ref.id)),
    });
    const ref = (id: string, host: string) => ({ id, version: "1.0.0", hosts: [host] });
    expectFailure(
      await granted.beforeCommit(ref("elsewhere-1", "api.example.com"), draft("x")),
      "threw",
      /not-granted\.example is not one the plugin was granted \(api\.example\.com\)/,
    );
    expectFailure(
      await granted.beforeCommit(ref("private-1", "10.0.0.1"), draft("x")),
      "threw",
      /10\.0\.0\.0\/8 \(private\)/,
    );
    expectFailure(
      await granted.beforeCommit(ref("http-1", "api.example.com"), draft("x")),
      "threw",
      /must use https/,
    );
  });

  it("counts requests per call, refused ones too", async () => {
    const { runner, refs } = setup("lobby", { chatty: FETCHES_TOO_OFTEN("https://example.com/") });
    expectFailure(
      await runner.beforeCommit(refs.chatty!, draft("x")),
      "refused-by-limit",
      /sent more than 10 requests in one hook call/,
    );
  });

  it("checks what a plugin answers", async () => {
    const { runner, refs } = setup("lobby", { nonsense: ANSWERS_NONSENSE });
    expectFailure(
      await runner.beforeCommit(refs.nonsense!, draft("x")),
      "threw",
      /answered with something invalid/,
    );
  });

  it("suspends a plugin that fails in a row, and forgives it after", async () => {
    let now = 1_000_000;
    const code = instrumentOrThrow(THROWS("strikes-1"));
    const runner = new PluginRunner({
      loader: env.LOADER,
      exports: exports as unknown as SandboxExports,
      room: "lobby",
      code: async () => code,
      now: () => now,
    });
    const ref = { id: "strikes-1", version: "1.0.0", hosts: [] };
    for (let i = 0; i < STRIKES.failuresInARow; i++) {
      expect((await runner.beforeCommit(ref, draft("x"))).outcome).toBe("threw");
    }
    const suspended = await runner.beforeCommit(ref, draft("x"));
    expect(suspended).toMatchObject({
      outcome: "suspended",
      until: now + STRIKES.firstSuspensionMs,
    });
    now += STRIKES.firstSuspensionMs;
    expect((await runner.beforeCommit(ref, draft("x"))).outcome).toBe("threw");
  });
});

function instrumentOrThrow(source: string): string {
  const metered = instrument(source);
  if (!metered.ok) throw new Error(metered.problem);
  return metered.code;
}
