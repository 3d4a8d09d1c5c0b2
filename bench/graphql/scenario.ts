/**
 * What a scenario of `npm run bench:graphql` is: its flags with their defaults, the worker vars
 * its server needs, and a run against a fresh server that returns its markdown and its data.
 * A new scenario is one more file that exports one of these, and one line in run.ts's list.
 */
import type { RunningServer, Storage, TargetName } from "../servers.ts";

export type ScenarioFlag = { default: string; help: string };

export type ScenarioContext = {
  server: RunningServer;
  target: TargetName;
  storage: Storage;
  /** The scenario's flags, each its value from the command line or its default. */
  flags: Record<string, string>;
  log: (line: string) => void;
};

export type ScenarioResult = {
  /** A markdown section: tables and what they mean. */
  markdown: string;
  /** Everything measured, for the JSON file of the run. */
  data: Record<string, unknown>;
};

export type BenchScenario = {
  name: string;
  summary: string;
  /** Flags as `--name value`; scenarios may share a name (each applies its own default). */
  flags: Record<string, ScenarioFlag>;
  /** Worker vars for the scenario's server, as `--var NAME:VALUE` to `wrangler dev`. */
  serverVars: Record<string, string>;
  /** A bound on one run, for the run's watchdog. */
  maxMinutes(flags: Record<string, string>): number;
  run(context: ScenarioContext): Promise<ScenarioResult>;
};

/** A flag as a positive number, or a clear error naming it. */
export function positive(flags: Record<string, string>, name: string): number {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name}: a positive number, not ${flags[name]}`);
  return value;
}

/** A markdown table; the first column left-aligned, the others right-aligned. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}
