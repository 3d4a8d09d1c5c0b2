import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

/**
 * Writes a benchmark run's JSON into bench/results/ (gitignored), or to `out`; returns the path.
 * Every file starts with when the run started, how long it took, and on what.
 */
export function writeResults(
  prefix: string,
  started: number,
  elapsedS: number,
  payload: Record<string, unknown>,
  out?: string,
): string {
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file =
    out ?? `${dir}${prefix}${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`;
  const header = {
    startedAt: new Date(started).toISOString(),
    elapsedS,
    node: process.version,
    cpus: cpus().length,
  };
  writeFileSync(file, JSON.stringify({ ...header, ...payload }, null, 2));
  return file;
}
