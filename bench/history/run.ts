/**
 * `npm run bench:history`: time travel in a room of 100,000 events (docs/audit.md, "Time
 * travel"): the state at a seq through snapshots against a full replay, the atTime lookup, and
 * what snapshots cost to write and keep; prints a table and writes the results to bench/results/.
 *
 *   node bench/history/run.ts [--events N] [--reps N]
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { writeResults } from "../results.ts";

const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    reps: { type: "string", default: "7" },
  },
});

const started = Date.now();
console.error(`[history] a room of ${flags.events} events, ${flags.reps} repetitions`);
const run = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "--config", "bench/history/vitest.config.ts"],
  {
    env: { ...process.env, BENCH_EVENTS: flags.events, BENCH_REPS: flags.reps },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  },
);
const rows = `${run.stdout}\n${run.stderr}`
  .split("\n")
  .filter((line) => line.includes("BENCH_ROW "))
  .map((line) => JSON.parse(line.slice(line.indexOf("BENCH_ROW ") + 10)) as Record<string, string>);
if (run.status !== 0 || rows.length === 0) {
  console.error(run.stdout.slice(-4000), run.stderr.slice(-4000));
  throw new Error("the benchmark run failed");
}

/** One markdown table per kind of row (rows of a kind share their columns). */
const tables = new Map<string, Record<string, string>[]>();
for (const row of rows) {
  const key = Object.keys(row).slice(1).join("|");
  tables.set(key, [...(tables.get(key) ?? []), row]);
}
for (const group of tables.values()) {
  const columns = Object.keys(group[0]!);
  console.log(
    [
      `| ${columns.join(" | ")} |`,
      `| ${columns.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
      ...group.map((row) => `| ${columns.map((c) => row[c]).join(" | ")} |`),
    ].join("\n") + "\n",
  );
}
const file = writeResults("history-", started, (Date.now() - started) / 1000, {
  events: Number(flags.events),
  rows,
});
console.error(`results: ${file}`);
