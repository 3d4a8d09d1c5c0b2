/**
 * `npm run bench:directory`: the room directory with 100,000 rooms (docs/directory.md), on one
 * shard and on several, each run on fresh storage; prints a table and writes the results to
 * bench/results/.
 *
 *   node bench/directory/run.ts [--rooms N] [--shards 1,8,16]
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { writeResults } from "../results.ts";

const { values: flags } = parseArgs({
  options: {
    rooms: { type: "string", default: "100000" },
    shards: { type: "string", default: "1,8,16" },
  },
});

const started = Date.now();
const rows: Record<string, string | number>[] = [];
for (const shards of flags.shards.split(",")) {
  console.error(`[directory] ${flags.rooms} rooms, ${shards} shard(s)`);
  const run = spawnSync(
    process.execPath,
    ["node_modules/vitest/vitest.mjs", "run", "--config", "bench/directory/vitest.config.ts"],
    {
      env: { ...process.env, BENCH_ROOMS: flags.rooms, BENCH_SHARDS: shards },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const line = `${run.stdout}\n${run.stderr}`.split("\n").find((l) => l.includes("BENCH_ROW "));
  if (run.status !== 0 || !line) {
    console.error(run.stdout.slice(-4000), run.stderr.slice(-4000));
    throw new Error(`the run with ${shards} shard(s) failed`);
  }
  const row = JSON.parse(line.slice(line.indexOf("BENCH_ROW ") + 10)) as Record<string, string>;
  console.error(`  ${JSON.stringify(row)}`);
  rows.push(row);
}
const columns = Object.keys(rows[0]!);
const table = [
  `| ${columns.join(" | ")} |`,
  `| ${columns.map(() => "---:").join(" | ")} |`,
  ...rows.map((row) => `| ${columns.map((c) => row[c]).join(" | ")} |`),
].join("\n");
console.log(`\n## Directory: ${flags.rooms} rooms\n\n${table}\n`);
const file = writeResults("directory-", started, (Date.now() - started) / 1000, { rows });
console.error(`results: ${file}`);
