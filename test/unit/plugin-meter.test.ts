import { setFlagsFromString } from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { ELEMENT_BYTES } from "../../src/plugins/sandbox/allocation.ts";
import { BUDGETS, Meter, MiB, PluginLimit } from "../../src/plugins/sandbox/meter.ts";
import { sandboxRealm } from "../support/sandbox-vm.ts";

describe("Meter", () => {
  const meter = (budgets: Partial<typeof BUDGETS> = {}, now = () => 0) =>
    new Meter({ ...BUDGETS, ...budgets }, now);

  it("gives each call its fuel and stops at the budget, for the rest of the call", () => {
    const m = meter({ fuel: 3 });
    m.open("a", Infinity);
    m.tick();
    m.tick();
    m.tick();
    expect(() => m.tick()).toThrow(PluginLimit);
    // Caught by the plugin: the next tick throws the same error again.
    expect(() => m.tick()).toThrow(/3 loop iterations/);
    expect(m.close()?.message).toMatch(/3 loop iterations/);
    m.open("b", Infinity);
    m.tick();
    expect(m.close()).toBeUndefined();
  });

  it("lets a call the runner gave up on close nothing when it ends during a later one", () => {
    const m = meter({ fuel: 10 });
    m.open("abandoned", Infinity);
    m.open("current", Infinity);
    expect(m.close("abandoned")).toBeUndefined();
    m.tick();
    expect(m.active).toBe(true);
    expect(m.close("current")).toBeUndefined();
    expect(m.active).toBe(false);
  });

  it("leaves no fuel between calls", () => {
    const m = meter();
    expect(() => m.tick()).toThrow(/outside a hook call/);
    m.open("a", Infinity);
    m.close();
    expect(() => m.tick()).toThrow(/outside a hook call/);
  });

  it("charges bytes per call and per isolate, and credits what was collected", () => {
    const m = meter({ bytesPerCall: 10, bytesPerIsolate: 15 });
    m.open("a", Infinity);
    m.charge(8);
    expect(() => m.charge(3)).toThrow(/more than .* MiB in one hook call/);
    expect(m.close()).toBeInstanceOf(PluginLimit);
    m.open("b", Infinity);
    m.charge(6);
    expect(m.liveBytes).toBe(14);
    m.credit(10);
    expect(m.close()).toBeUndefined();
    m.open("c", Infinity);
    m.charge(6);
    expect(m.liveBytes).toBe(10);
    expect(m.close()).toBeUndefined();
  });

  it("is spent for good once a call starts with the isolate past its budget", () => {
    const m = meter({ bytesPerCall: 10, bytesPerIsolate: 20 });
    for (const id of ["a", "b", "c"]) {
      m.open(id, Infinity);
      expect(m.spent).toBe(false);
      m.charge(8);
      expect(m.close()).toBeUndefined();
    }
    m.open("d", Infinity);
    expect(m.spent).toBe(true);
    m.close();
    m.credit(100);
    m.open("e", Infinity);
    expect(m.spent).toBe(true);
  });

  it("counts requests per call", () => {
    const m = meter({ subrequests: 2 });
    m.open("a", Infinity);
    m.subrequest();
    m.subrequest();
    expect(() => m.subrequest()).toThrow(/more than 2 requests/);
    m.close();
    expect(() => m.subrequest()).toThrow(/outside a hook call/);
  });
});

/** Runs `source` (a module) as one metered call in a fresh realm. */
function call(source: string, budgets: Partial<typeof BUDGETS> = {}) {
  const realm = sandboxRealm({ bytesPerCall: 1 * MiB, bytesPerIsolate: 4 * MiB, ...budgets });
  realm.meter.open("test", Infinity);
  try {
    return { value: realm.run(source), tripped: realm.meter.close(), realm };
  } catch (error) {
    return { error, tripped: realm.meter.close(), realm };
  }
}

describe("the allocation meter", () => {
  it("leaves the built-ins working as before", () => {
    const { value, tripped } = call(`
      const buffer = new ArrayBuffer(8);
      const bytes = new Uint8Array(buffer);
      bytes[0] = 7;
      class Bigger extends Uint8Array {}
      const sub = new Bigger([1, 2, 3]);
      const a = Array(3), b = Array(1, 2), c = new Array("x");
      const m = new Map([[1, "a"]]); m.set(2, "b");
      const s = new Set([1]); s.add(1).add(2);
      export default {
        typed: [bytes[0], bytes.length, new Float64Array([1.5]).byteLength, sub instanceof Uint8Array, sub instanceof Bigger, sub.length],
        views: [bytes.buffer === buffer, buffer instanceof ArrayBuffer, buffer.constructor === ArrayBuffer, ArrayBuffer.isView(bytes)],
        arrays: [a.length, b, c, [1, 2].concat([3], 4), Array.from("abc"), Array.from({ length: 2 }, (_, i) => i * 2), Array.of(5, 6)],
        methods: [[1].map((x) => x + 1), [1, 2, 3].slice(1), [0, 0].fill(9), [3, 1, 2].sort(), Array.isArray(Array(2))],
        pushes: (() => { const x = []; x.push(1, 2); x.unshift(0); x.splice(1, 0, 0.5); return x; })(),
        strings: ["ab".repeat(3), "7".padStart(3, "0"), "7".padEnd(2, "!")],
        collections: [m.size, m.get(2), s.size, [...s]],
        species: [[].constructor === Array, new Uint8Array(4).subarray(1).length, new Uint8Array([1, 2]).map((x) => x * 2)[1]],
      };
    `);
    expect(tripped).toBeUndefined();
    expect(JSON.parse(JSON.stringify(value))).toEqual({
      typed: [7, 8, 8, true, true, 3],
      views: [true, true, true, true],
      arrays: [3, [1, 2], ["x"], [1, 2, 3, 4], ["a", "b", "c"], [0, 2], [5, 6]],
      methods: [[2], [2, 3], [9, 9], [1, 2, 3], true],
      pushes: [0, 0.5, 1, 2],
      strings: ["ababab", "007", "7!"],
      collections: [2, "b", 2, [1, 2]],
      species: [true, 3, 4],
    });
  });

  const RUNAWAYS: [string, string, RegExp][] = [
    ["one huge ArrayBuffer", `export default new ArrayBuffer(2 ** 40);`, /in one hook call/],
    ["a huge typed array", `export default new Float64Array(1e9);`, /in one hook call/],
    [
      "a typed array from a huge array-like",
      `export default new Uint32Array({ length: 1e9 });`,
      /in one hook call/,
    ],
    [
      "the original constructor through .buffer",
      `export default new (new Uint8Array(1).buffer.constructor)(2 ** 40);`,
      /in one hook call/,
    ],
    [
      "the original through [].constructor",
      `export default new ([].constructor)(1e9).fill(0);`,
      /in one hook call/,
    ],
    ["Array(n) without new", `export default Array(1e9).fill(1);`, /in one hook call/],
    [
      "push in a loop",
      `const a = []; for (let i = 0; i < 1e7; i++) a.push(i, i, i); export default a.length;`,
      /in one hook call/,
    ],
    [
      "arrays of arrays",
      `const a = []; for (;;) a.push(new Array(1e4).fill(1)); export default 1;`,
      /in one hook call/,
    ],
    [
      "concat that doubles",
      `let a = [1]; for (;;) a = a.concat(a); export default a;`,
      /in one hook call/,
    ],
    ["a string that repeats", `export default "abc".repeat(1e9);`, /in one hook call/],
    ["padStart", `export default "".padStart(2 ** 28, "x");`, /in one hook call/],
    [
      "a growing Map",
      `const m = new Map(); for (let i = 0; ; i++) m.set(i, i); export default m;`,
      /in one hook call/,
    ],
    [
      "Array.from an endless iterable's prefix",
      `function* g() { for (let i = 0; i < 2e5; i++) yield i; } export default Array.from(g());`,
      /in one hook call/,
    ],
    [
      "a resizable buffer grown",
      `const b = new ArrayBuffer(8, { maxByteLength: 2 ** 30 }); b.resize(2 ** 29); export default b;`,
      /in one hook call/,
    ],
  ];
  it.each(RUNAWAYS)("stops %s before it allocates", (_name, source, message) => {
    const { tripped, error } = call(source, { fuel: 1e9 });
    expect(error).toBeInstanceOf(Error);
    expect(tripped).toBeInstanceOf(PluginLimit);
    expect(tripped?.message).toMatch(message);
  });

  it("charges an Array(n) once, not again for its fill", () => {
    const { tripped, realm } = call(`export default new Array(1000).fill(0);`);
    expect(tripped).toBeUndefined();
    expect(realm.meter.liveBytes).toBe(1000 * ELEMENT_BYTES);
  });

  it("spends the isolate when what it keeps across calls grows past its budget", () => {
    const realm = sandboxRealm({ bytesPerCall: 1 * MiB, bytesPerIsolate: 4 * MiB });
    realm.run(`globalThis.kept = []; export default 0;`);
    let calls = 0;
    for (; calls < 100; calls++) {
      realm.meter.open(`call ${calls}`, Infinity);
      if (realm.meter.spent) break;
      realm.run(`kept.push(new Uint8Array(512 * 1024)); export default kept.length;`);
      expect(realm.meter.close()).toBeUndefined();
    }
    // 512 KiB kept per call (and a few bytes for the push): past 4 MiB after eight calls, so
    // the ninth finds the isolate spent.
    expect(calls).toBe(8);
  });

  it("credits what the garbage collector took back", async () => {
    setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const realm = sandboxRealm({ bytesPerCall: 4 * MiB, bytesPerIsolate: 8 * MiB });
    for (let i = 0; i < 40; i++) {
      realm.meter.open(`call ${i}`, Infinity);
      realm.run(`export default new Uint8Array(1024 * 1024).length;`);
      expect(realm.meter.close()).toBeUndefined();
      // Dropped at once: collected, and its finalizer run, before the isolate's budget is reached.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(realm.meter.liveBytes).toBeLessThan(8 * MiB);
  });
});
