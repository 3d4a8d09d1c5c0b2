import { describe, expect, it } from "vitest";
import { instrument } from "../../src/plugins/instrument.ts";
import { PluginLimit } from "../../src/plugins/sandbox/meter.ts";
import { FUEL_NAME } from "../../src/plugins/sandbox/names.ts";
import { sandboxRealm } from "../support/sandbox-vm.ts";

function instrumented(source: string): string {
  const result = instrument(source);
  if (!result.ok) throw new Error(result.problem);
  return result.code;
}

/** Runs a module in a fresh sandbox realm, metered, as one hook call; what it returned or threw. */
async function runMetered(source: string, budgets = { fuel: 5_000 }) {
  const realm = sandboxRealm(budgets);
  realm.meter.open("test", Infinity);
  try {
    const value = await realm.run(instrumented(source));
    return { value, tripped: realm.meter.close() };
  } catch (error) {
    return { error, tripped: realm.meter.close() };
  }
}

/** The same module unmetered, in a realm of its own: what normal code returns. */
async function runPlain(source: string) {
  const realm = sandboxRealm();
  realm.meter.open("plain", Infinity);
  return realm.run(source);
}

/** Normal code: each returns (or resolves to) a JSON value that says it ran right. */
const NORMAL: Record<string, string> = {
  "a for loop": `let s = 0; for (let i = 0; i < 100; i++) s += i; export default s;`,
  "loops without braces": `let s = 0, i = 0; while (i < 10) i++; do i--; while (i > 5); for (const x of [1, 2]) s += x; for (const k in {a: 1}) s += k.length; export default [s, i];`,
  "an empty loop body": `let i = 0; for (; i < 5; i++); export default i;`,
  "labels, continue and break": `let n = 0; outer: for (let i = 0; i < 5; i++) { for (let j = 0; j < 5; j++) { if (j === 2) continue outer; if (i === 4) break outer; n++; } } export default n;`,
  recursion: `function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); } export default fib(15);`,
  "arrows with expression bodies": `const add = (a) => (b) => a + b; const pair = (x) => ({ x, twice: x * 2 }); const seq = (x) => (x, x + 1); export default [add(1)(2), pair(3), seq(4)];`,
  "an arrow as a loop's lone statement": `let f; for (let i = 0; i < 3; i++) f = () => i; export default f();`,
  "classes, getters, setters, static blocks": `class A { #v = 1; static n = 0; static { A.n = 2; } get v() { return this.#v; } set v(x) { this.#v = x; } m() { return this.v * A.n; } } const a = new A(); a.v = 5; export default a.m();`,
  generators: `function* count(n) { for (let i = 0; i < n; i++) yield i; } export default [...count(5)];`,
  "async functions and for await": `async function* ticks() { yield 1; yield 2; } async function sum() { let s = 0; for await (const t of ticks()) s += t; return s; } export default sum();`,
  "switch and try/finally in a loop": `const out = []; for (let i = 0; i < 4; i++) { try { switch (i) { case 1: continue; default: out.push(i); } } finally { out.push("f"); } } export default out;`,
  "default parameters and destructuring": `const f = ({ a = 1, b = () => 2 } = {}, [c] = [3]) => a + b() + c; export default f();`,
  "tagged templates and methods": `const tag = (s, ...v) => s.raw.join("|") + v.join(","); const o = { m() { return tag\`a\${1}b\${2}\`; } }; export default o.m();`,
  "a function named like a loop's label": `function x() { return 1 } x: for (;;) { break x; } export default x();`,
  "comments and strings that look like code": `// while (true) {}
const s = "for (;;) {}"; /* function () {} */ export default s;`,
  "a regular expression literal and division": `const r = /a{1,2}/g; const n = 10 / 2 / 5; export default ["aa".replace(r, "b"), n];`,
  "ASI across lines": `let a = 1
let b = a
while (b < 3) b++
export default [a, b]`,
};

describe("instrument: normal code behaves the same", () => {
  it.each(Object.entries(NORMAL))("%s", async (_name, source) => {
    const plain = await runPlain(source);
    const metered = await runMetered(source);
    expect(metered.error).toBeUndefined();
    expect(metered.tripped).toBeUndefined();
    expect(metered.value).toEqual(plain);
  });

  it("keeps every line where it was, so errors point at the plugin's own lines", () => {
    const source = NORMAL["ASI across lines"]!;
    const code = instrumented(source);
    expect(code.split("\n").length).toBe(source.split("\n").length);
    expect(code.split("\n")[2]).toBe(`while (b < 3) {${FUEL_NAME}();b++}`);
  });

  it("takes a default export however it is written", () => {
    for (const source of [`const p = {}; export { p as default };`, `export default class {}`])
      expect(instrument(source).ok, source).toBe(true);
  });

  it("counts what it metered", () => {
    const result = instrument(
      `function f() { for (;;) break; } const g = () => 1; while (0); export default 1;`,
    );
    expect(result).toMatchObject({ ok: true, loops: 2, functions: 2 });
  });
});

/** Code that never stops on its own. */
const RUNAWAY: Record<string, string> = {
  "while (true) {}": `while (true) {} export default 1;`,
  "for (;;)": `for (;;) {} export default 1;`,
  "for (;;); with an empty body": `for (;;); export default 1;`,
  "do {} while (1)": `do {} while (1); export default 1;`,
  "a loop whose work is in its test": `let i = 0; while (++i || true); export default i;`,
  recursion: `function f(n) { return f(n + 1) + 1; } export default f(0);`,
  "mutual recursion through arrows": `const a = (n) => b(n); const b = (n) => a(n); export default a(0);`,
  "a generator read forever": `function* forever() { let i = 0; while (true) yield i++; } let s = 0; for (const x of forever()) s += x; export default s;`,
  "a generator without a loop of its own": `function* one() { yield 1; } let n = 0; for (;;) for (const x of one()) n += x; export default n;`,
  "an async loop": `async function spin() { for (;;) await null; } export default spin();`,
  "async recursion": `async function again() { await null; return again(); } export default again();`,
  "a promise chain": `const go = () => Promise.resolve().then(go); export default go();`,
  "a loop that catches the limit": `for (;;) { try { for (;;) {} } catch {} } export default 1;`,
  "a loop that swallows it in finally": `for (;;) { try { for (;;) {} } finally { continue; } } export default 1;`,
  "recursion that catches and recurses again": `function f() { try { return f(); } catch { return f(); } } export default f();`,
  "sort with a comparator that never settles": `const a = Array.from({ length: 50 }, (_, i) => i); for (;;) a.sort(() => Math.random() - 0.5); export default a;`,
};

describe("instrument: runaway code stops with PluginLimit", () => {
  it.each(Object.entries(RUNAWAY))("%s", async (_name, source) => {
    const result = await runMetered(source);
    expect(result.tripped).toBeInstanceOf(PluginLimit);
    expect(result.tripped?.message).toMatch(/loop iterations and function calls/);
    expect(result.error).toBeDefined();
  });

  it("stops a loop whose iterations are costly at the call's deadline", async () => {
    let clock = 0;
    // Read every 4096 units of fuel: the deadline is 50 reads away.
    const realm = sandboxRealm({ fuel: 1e9 }, () => (clock += 1000));
    realm.meter.open("slow", 50_000);
    expect(() =>
      realm.run(instrumented(`let s = ""; for (;;) s = String(s.length); export default s;`)),
    ).toThrow(/time budget/);
  });

  it("gives code run after its call no fuel at all (a timer, a promise left behind)", () => {
    const realm = sandboxRealm();
    expect(() => realm.run(instrumented(`const f = () => 1; export default f();`))).toThrow(
      /outside a hook call/,
    );
  });
});

describe("instrument: refuses", () => {
  const refusals: [string, string, RegExp][] = [
    ["an import", `import x from "y"; export default x;`, /may not import anything.*line 1/],
    ["a namespace import", `import * as x from "y";`, /may not import anything/],
    ["import()", `export default import("./x.js");`, /import\(\)/],
    ["import.meta", `export default import.meta.url;`, /import\.meta/],
    ["export from", `export { x } from "y";`, /re-export/],
    ["export * from", `export * from "y";`, /re-export/],
    ["the guard's name", `${FUEL_NAME}(); export default 1;`, /reserved for the sandbox/],
    ["the guard's name in a string", `export default globalThis["${FUEL_NAME}"];`, /reserved/],
    [
      "the guard's name spelled with escapes",
      `const \\u005f_edgechat_fuel = 1; export default 1;`,
      /reserved/,
    ],
    ["a property named like it", `export default { __edgechat_x: 1 };`, /reserved/],
    ["with", `with (Math) { max(1, 2); }`, /does not parse.*with/i],
    ["code that does not parse", `export default function (`, /does not parse/],
    ["a CommonJS module's return", `return 1;`, /does not parse/],
    ["a module without a default export", `export const x = 1;`, /no default export/],
  ];
  it.each(refusals)("%s", (_name, source, problem) => {
    const result = instrument(source);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });

  it("says where the import is", () => {
    const result = instrument(`const a = 1;\n\nconst b = import("x");`);
    expect(result).toEqual({ ok: false, problem: expect.stringContaining("line 3") });
  });
});
