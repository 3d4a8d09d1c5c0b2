/**
 * `npm run bench:plugins`: what the sandbox's metering costs a plugin's own code, in Node's V8
 * (the engine workerd embeds), on this machine. Each workload runs as a plugin module would: in a
 * fresh realm (a `vm` context) with its built-ins wrapped by the allocation meter and its code
 * instrumented with the fuel guard, against the same module unmetered in a realm left alone.
 * Also: how long a loop takes to burn a call's whole fuel (what a runaway costs before it stops).
 * Medians of RUNS runs after a warm-up; markdown on stdout. Speed only: correctness is the unit
 * tests' (test/unit/plugin-instrument.test.ts).
 */
import vm from "node:vm";
import { performance } from "node:perf_hooks";
import { instrument } from "../../src/plugins/instrument.ts";
import { BUDGETS, type Meter } from "../../src/plugins/sandbox/meter.ts";
import { FUEL_NAME, RUNTIME_MODULE } from "../../src/plugins/sandbox/names.ts";
import { SANDBOX_RUNTIME } from "../../src/plugins/sandbox-modules.ts";

const RUNS = 15;

/** Each returns a number, so that nothing is optimised away. */
const WORKLOADS: Record<string, string> = {
  "loop: sum of 200k numbers": `let s = 0; for (let i = 0; i < 200000; i++) s += i % 7; return s;`,
  "calls: fib(22), 57k calls": `const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2)); return fib(22);`,
  "words: filter a 4 KB message 50 times": `
    const text = "the quick brown fox jumps over the lazy darn dog ".repeat(80);
    const banned = new Set(["darn", "heck", "drat"]);
    let hits = 0;
    for (let k = 0; k < 50; k++) for (const word of text.split(" ")) if (banned.has(word)) hits++;
    return hits;`,
  "arrays: push 100k, map, filter": `
    const a = []; for (let i = 0; i < 100000; i++) a.push(i);
    return a.map((x) => x * 2).filter((x) => x % 3 === 0).length;`,
  "maps: 20k keys set and read": `
    const m = new Map(); for (let i = 0; i < 20000; i++) m.set("k" + i, i);
    let s = 0; for (const [, v] of m) s += v; return s;`,
};

const IMPORT = `import{${FUEL_NAME}}from"./${RUNTIME_MODULE}";`;

type Compiled = { run: () => number; meter?: Meter };

/** The bundled runtime module as statements: its `export` list dropped (its names stay in scope). */
const RUNTIME_STATEMENTS = SANDBOX_RUNTIME.replace(/export \{[^}]*\};\s*$/, "");

/**
 * A module as one script in a fresh realm; metered, after the sandbox's own runtime (as bundled
 * for the Dynamic Workers) in the same scope, so that the fuel guard is a binding of the plugin's
 * scope as its import is in workerd. (A global lookup in a `vm` context goes through Node's
 * interceptors and would cost far more than the guard itself.)
 */
function load(module: string, metered: boolean): Compiled {
  const context = vm.createContext({});
  let code = module;
  if (metered) {
    const result = instrument(module);
    if (!result.ok) throw new Error(result.problem);
    code = result.code.slice(IMPORT.length);
  }
  const body = code.replace("export default function", "function");
  const script = metered
    ? `(() => { ${RUNTIME_STATEMENTS}\nmeter.close();\n${body}\nreturn { run, meter }; })()`
    : `(() => { ${body}\nreturn { run }; })()`;
  return vm.runInContext(script, context) as Compiled;
}

/** The workload as a function in its realm: instrumented and metered, or left alone. */
function compile(body: string, metered: boolean) {
  const { run, meter } = load(`export default function run() { ${body} }`, metered);
  return () => {
    meter?.open("run", Infinity);
    const value = run();
    const tripped = meter?.close();
    if (tripped) throw tripped;
    return value;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(run: () => number): number {
  for (let i = 0; i < 3; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const rows: string[] = [];
for (const [name, body] of Object.entries(WORKLOADS)) {
  const plain = compile(body, false);
  const metered = compile(body, true);
  if (plain() !== metered()) throw new Error(`${name}: the metered run answered differently`);
  const [a, b] = [time(plain), time(metered)];
  rows.push(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}

// A runaway: a tight loop until the call's fuel is gone.
const spinner = load(`export default function run() { for (;;) {} }`, true);
const burns: number[] = [];
for (let i = 0; i < RUNS; i++) {
  spinner.meter!.open(`spin ${i}`, Infinity);
  const started = performance.now();
  try {
    spinner.run();
  } catch {
    // PluginLimit: the fuel is gone.
  }
  burns.push(performance.now() - started);
  spinner.meter!.close();
}

console.log(`Node ${process.version}, ${RUNS} runs each, medians (ms)\n`);
console.log("| workload | plain | metered | ratio |\n| --- | ---: | ---: | ---: |");
console.log(rows.join("\n"));
console.log(
  `\nA loop with an empty body burns a call's whole fuel (${BUDGETS.fuel.toLocaleString("en")} units) in ${median(burns).toFixed(1)} ms.`,
);
