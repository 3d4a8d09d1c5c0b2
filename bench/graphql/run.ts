/**
 * `npm run bench:graphql`: GraphQL against REST on edgechat as `npm run dev` serves it
 * (`wrangler dev`, or straight to the workerd behind its proxy), one fresh server and storage
 * per scenario, target and storage. Prints markdown on stdout, progress on stderr, and writes
 * everything to bench/results/graphql-<time>.json. Talks to 127.0.0.1 only, stops by itself.
 *
 *   node bench/graphql/run.ts [--scenario room-page] [--target edgechat-dev,edgechat-direct]
 *        [--storage disk|tmpfs|both] [--server-root DIR] [--label TEXT] [--out FILE]
 *        [scenario flags: --help lists them]
 */
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeResults } from "../results.ts";
import {
  REPO_ROOT,
  startTarget,
  type RunningServer,
  type Storage,
  type TargetName,
} from "../servers.ts";
import { roomPage } from "./room-page.ts";
import type { BenchScenario } from "./scenario.ts";
import { stopOnExit } from "../util.ts";

/** Every scenario; a new one is a file exporting a BenchScenario and a line here. */
const SCENARIOS: readonly BenchScenario[] = [roomPage];

const TARGETS = ["edgechat-dev", "edgechat-direct"] as const satisfies readonly TargetName[];
const STORAGES = ["disk", "tmpfs"] as const satisfies readonly Storage[];

const scenarioFlagNames = [...new Set(SCENARIOS.flatMap((s) => Object.keys(s.flags)))];
const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string", default: SCENARIOS.map((s) => s.name).join(",") },
    target: { type: "string", default: "edgechat-dev" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...Object.fromEntries(scenarioFlagNames.map((name) => [name, { type: "string" as const }])),
  },
});

const usage = () =>
  [
    "usage: node bench/graphql/run.ts [--scenario LIST] [--target LIST|all] [--storage disk|tmpfs|both]",
    "       [--server-root DIR] [--label TEXT] [--out FILE] [scenario flags]",
    `targets: ${TARGETS.join(", ")} (default edgechat-dev)`,
    ...SCENARIOS.flatMap((s) => [
      `scenario ${s.name}: ${s.summary}`,
      ...Object.entries(s.flags).map(([name, f]) => `  --${name} (${f.default}): ${f.help}`),
    ]),
  ].join("\n");

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  if (value === "all" || value === "both") return [...allowed];
  const items = value.split(",").map((v) => v.trim()) as T[];
  for (const item of items)
    if (!allowed.includes(item))
      throw new Error(`--${flag}: ${item}? one of ${allowed.join(", ")}`);
  return items;
}

/** The scenario's flags: the command line's value, else the scenario's own default. */
function flagsOf(scenario: BenchScenario): Record<string, string> {
  const given = flags as Record<string, string | boolean | undefined>;
  return Object.fromEntries(
    Object.entries(scenario.flags).map(([name, f]) => [name, String(given[name] ?? f.default)]),
  );
}

const log = (line: string) => console.error(line);

let running: RunningServer | undefined;

const { stopAndExit } = stopOnExit(async () => running?.stop());

async function main(): Promise<void> {
  const started = Date.now();
  const plan = list(
    "scenario",
    flags.scenario!,
    SCENARIOS.map((s) => s.name),
  ).map((name) => SCENARIOS.find((s) => s.name === name)!);
  const targets = list("target", flags.target!, TARGETS);
  const storages = list("storage", flags.storage!, STORAGES);
  const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);
  const loadAverage = loadavg();
  const sections: string[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const scenario of plan)
    for (const storage of storages)
      for (const target of targets) {
        const scenarioFlags = flagsOf(scenario);
        log(
          `[${scenario.name} ${target} ${storage}] starting (load ${loadavg()
            .map((l) => l.toFixed(2))
            .join(" ")})`,
        );
        const server = await startTarget(target, {
          storage,
          serverRoot,
          vars: scenario.serverVars,
        });
        running = server;
        try {
          const result = await scenario.run({ server, target, storage, flags: scenarioFlags, log });
          sections.push(
            `### ${scenario.name}: ${target}, storage on ${storage}\n\n${result.markdown}\n`,
          );
          runs.push({
            scenario: scenario.name,
            target,
            storage,
            flags: scenarioFlags,
            ...result.data,
          });
        } finally {
          await server.stop();
          running = undefined;
        }
      }
  const elapsed = (Date.now() - started) / 1000;
  const markdown = [
    `## GraphQL benchmark${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ` +
      `${loadAverage.map((l) => l.toFixed(2)).join(" ")}. edgechat: \`wrangler dev\` in ${serverRoot}.`,
    "",
    ...sections,
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
  console.log(markdown);
  const file = writeResults(
    "graphql-",
    started,
    elapsed,
    { label: flags.label, serverRoot, runs, markdown },
    flags.out,
  );
  log(`results: ${file}`);
}

if (flags.help) {
  console.log(usage());
  process.exit(0);
}

// Each run has its own bounds (requests time out, windows end); this catches anything past them.
const watchdogMinutes =
  SCENARIOS.reduce((n, s) => n + s.maxMinutes(flagsOf(s)) + 2, 0) *
  list("target", flags.target!, TARGETS).length *
  list("storage", flags.storage!, STORAGES).length;
setTimeout(() => {
  log(`bench: watchdog: gave up after ${watchdogMinutes.toFixed(0)} minutes`);
  stopAndExit(2);
}, watchdogMinutes * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
