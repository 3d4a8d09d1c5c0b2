/**
 * bench:hooks' figures and tables, pure (test/unit/bench-hooks.test.ts): per case the committed
 * posts a second, the ack latency and the runtime's CPU per post, each as a ratio to the same
 * round's run with no plugin on; medians over rounds with their range.
 */
import type { RunResult } from "../load.ts";
import { fmt } from "../report.ts";
import type { CpuWindow } from "../integrations/common.ts";
import { median } from "../integrations/tally.ts";
import type { CallTimes, HookFailures } from "./plugins.ts";

/** How many copies of the filter the room has on, per case. */
export const CASES = { none: 0, one: 1, five: 5 } as const;
export type CaseName = keyof typeof CASES;
export const CASE_NAMES = Object.keys(CASES) as CaseName[];

export type CaseRun = {
  round: number;
  name: CaseName;
  /** The load benchmark's result (its per-post timeline left out). */
  result: Omit<RunResult, "timeline">;
  /** The measured window. */
  cpu: CpuWindow;
  /** The room's failed before-commit calls (none: every post was screened). */
  failures: HookFailures;
  /** The runner's time per call, idle, after the window (cases with plugins). */
  calls?: CallTimes;
  loadAverage: number[];
};

/** The figures compared across cases. */
export function numbersOf(run: CaseRun) {
  const r = run.result;
  const runtime = run.cpu.serverCpuMs.runtime ?? NaN;
  return {
    committedPerS: r.ackedPerS,
    ackP50: r.ackLatencyMs.p50,
    ackP95: r.ackLatencyMs.p95,
    ackP99: r.ackLatencyMs.p99,
    cpuPerPost: runtime / (r.ackedPerS * r.durationS),
    runtimeBusy: runtime / run.cpu.wallMs,
  };
}
export type Compared = keyof ReturnType<typeof numbersOf>;

/** Each of `name`'s runs over the same round's no-plugin run, for `key`. */
export function ratios(runs: readonly CaseRun[], name: CaseName, key: Compared): number[] {
  return runs
    .filter((r) => r.name === name)
    .map((r) => {
      const base = runs.find((b) => b.name === "none" && b.round === r.round);
      return base ? numbersOf(r)[key] / numbersOf(base)[key] : NaN;
    });
}

/** `0.42× (0.40–0.45)`: the median ratio, and its range over rounds when there are several. */
export function ratioText(values: readonly number[]): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return "–";
  const spread = v.length > 1 ? ` (${fmt(Math.min(...v), 2)}–${fmt(Math.max(...v), 2)})` : "";
  return `${fmt(median(v), 2)}×${spread}`;
}

const failuresText = (f: HookFailures) => {
  const entries = Object.entries(f.byOutcome);
  return entries.length === 0 ? "0" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
};

/** One row per case: medians over rounds, ratios to none. */
export function summaryTable(runs: readonly CaseRun[]): string {
  const lines = [
    "| room's plugins | committed msg/s | ×none | ack p50 ms | ×none | ack p95 ms | ×none | ack p99 ms | ×none | runtime CPU ms/post | ×none | hook call ms, idle: mean (p50 / p95) | failed hook calls |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const name of CASE_NAMES) {
    const mine = runs.filter((r) => r.name === name);
    if (mine.length === 0) continue;
    const m = (k: Compared) => median(mine.map((r) => numbersOf(r)[k]));
    const x = (k: Compared) => (name === "none" ? "" : ratioText(ratios(runs, name, k)));
    const calls = mine.flatMap((r) => (r.calls ? [r.calls.ms] : []));
    const callCell = calls.length
      ? `${fmt(median(calls.map((c) => c.mean)), 2)} (${fmt(median(calls.map((c) => c.p50)), 0)} / ${fmt(median(calls.map((c) => c.p95)), 0)})`
      : "";
    const failed = mine.map((r) => failuresText(r.failures)).join("; ");
    lines.push(
      `| ${caseLabel(name)} | ${fmt(m("committedPerS"))} | ${x("committedPerS")} | ${fmt(m("ackP50"), 1)} | ${x("ackP50")} | ${fmt(m("ackP95"), 1)} | ${x("ackP95")} | ${fmt(m("ackP99"), 1)} | ${x("ackP99")} | ${fmt(m("cpuPerPost"), 3)} | ${x("cpuPerPost")} | ${callCell} | ${name === "none" ? "" : failed} |`,
    );
  }
  return lines.join("\n");
}

export const caseLabel = (name: CaseName) =>
  name === "none"
    ? "none"
    : `${CASES[name]} before-commit hook${CASES[name] > 1 ? "s" : ""} (profanity filter${CASES[name] > 1 ? " ×5" : ""})`;

/** One row per run: what the summary's medians come from, and the run's checks. */
export function runsTable(runs: readonly CaseRun[]): string {
  const lines = [
    "| round | plugins | posts acked / sent | window s | committed msg/s | ack p50 / p95 / p99 ms | fan-out p50 / p99 ms | runtime CPU ms/post | runtime busy | lost / dup / reorder / not in log | refused at least once (overloaded) | refused in the end | others' cores | load at start |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const run of runs) {
    const n = numbersOf(run);
    const r = run.result;
    const d = r.durable;
    const notInLog = d ? d.missing + d.wrongText + d.refusedButStored : NaN;
    lines.push(
      `| ${run.round} | ${CASES[run.name]} | ${r.acked} / ${r.sent} | ${fmt(r.durationS, 1)} | ${fmt(n.committedPerS)} | ${fmt(n.ackP50, 1)} / ${fmt(n.ackP95, 1)} / ${fmt(n.ackP99, 1)} | ${fmt(r.latencyMs.p50, 1)} / ${fmt(r.latencyMs.p99, 1)} | ${fmt(n.cpuPerPost, 3)} | ${fmt(n.runtimeBusy, 2)} | ${r.lost} / ${r.duplicates + (d?.storedTwice ?? 0)} / ${r.outOfOrder} / ${fmt(notInLog, 0)} | ${r.refusedOnce} | ${r.rejected ? JSON.stringify(r.rejects) : "0"} | ${fmt(run.cpu.othersCores, 2)} | ${fmt(run.loadAverage[0], 2)} |`,
    );
  }
  return lines.join("\n");
}

/** What went wrong in a run: anything here makes its numbers suspect. */
export function warnings(runs: readonly CaseRun[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const name = `round ${run.round}, ${run.name}`;
    const r = run.result;
    const d = r.durable;
    if (r.acked !== r.sent)
      out.push(`${name}: ${r.acked} of ${r.sent} posts acked ${JSON.stringify(r.rejects)}`);
    if (r.lost || r.duplicates || r.outOfOrder)
      out.push(`${name}: ${r.lost} lost, ${r.duplicates} duplicates, ${r.outOfOrder} reorders`);
    if (d && (d.error || d.missing || d.wrongText || d.refusedButStored || d.storedTwice))
      out.push(`${name}: the log check: ${JSON.stringify(d)}`);
    if (r.closedLoopTimeouts) out.push(`${name}: ${r.closedLoopTimeouts} posts unanswered in 10 s`);
    const failed = Object.values(run.failures.byOutcome).reduce((a, b) => a + b, 0);
    if (failed)
      out.push(
        `${name}: ${failed} before-commit calls failed (${failuresText(run.failures)}): those posts went through unscreened`,
      );
    if (run.calls?.failed) out.push(`${name}: ${run.calls.failed} idle calls through try failed`);
  }
  return out;
}
