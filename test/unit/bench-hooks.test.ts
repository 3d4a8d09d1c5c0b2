import { describe, expect, it } from "vitest";
import { copyUnder, filterIds, hookFailures } from "../../bench/hooks/plugins.ts";
import { numbersOf, ratios, ratioText, warnings, type CaseRun } from "../../bench/hooks/report.ts";
import { percentiles } from "../../bench/util.ts";

/**
 * bench:hooks' reading of the server and its arithmetic (bench/hooks/): a failed hook call must
 * be found in wrangler's coloured output (each one is a post that went through unscreened), the
 * filter's copies must name their own ids, and every ratio must be to the same round's run
 * without plugins, or the report would claim what did not happen.
 */

// As `wrangler dev` writes a room's log.warn into its output, colours and all.
const warned = (fields: Record<string, unknown>) =>
  `\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m \u001b[1m${JSON.stringify({
    level: "warn",
    time: "2026-11-30T16:32:40.264Z",
    msg: "plugin hook failed",
    room: "bench-0",
    ...fields,
  })}\u001b[0m`;

describe("hookFailures", () => {
  it("counts the room's failed before-commit calls by outcome, with their times", () => {
    const log = [
      warned({ plugin: "a", hook: "beforeCommit", outcome: "timeout", ms: 250 }),
      "",
      warned({ plugin: "b", hook: "beforeCommit", outcome: "timeout", ms: 251 }),
      warned({
        plugin: "a",
        hook: "beforeCommit",
        outcome: "threw",
        message: "Error: boom",
        ms: 9,
      }),
      warned({ plugin: "a", hook: "afterEvent", outcome: "threw", ms: 3 }),
      `\u001b[33m▲ \u001b[1mNOSENTRY IoContext dropped queued cross-context actions\u001b[0m`,
      `${warned({ plugin: "a", hook: "beforeCommit", outcome: "threw" }).slice(0, 60)}`,
    ].join("\n");
    const failures = hookFailures(log);
    expect(failures.byOutcome).toEqual({ timeout: 2, threw: 1 });
    expect(failures.ms).toMatchObject({ n: 3, max: 251, p50: 250 });
  });

  it("finds none in a log without any", () => {
    expect(hookFailures("").byOutcome).toEqual({});
    expect(
      hookFailures(warned({ msg: "plugin over budget", hook: "beforeCommit" })).byOutcome,
    ).toEqual({});
  });
});

describe("the filter's copies", () => {
  const bundle = `var x = 1;\nvar index_default = {\n  id: "profanity-filter",\n  version: "1.0.0",\n};`;

  it("are named profanity-filter, then -2 to -5", () => {
    expect(filterIds(5)).toEqual([
      "profanity-filter",
      "profanity-filter-2",
      "profanity-filter-3",
      "profanity-filter-4",
      "profanity-filter-5",
    ]);
  });

  it("declare their own id, and nothing else changes", () => {
    const copy = copyUnder(bundle, "profanity-filter-3");
    expect(copy).toBe(bundle.replace(`"profanity-filter"`, `"profanity-filter-3"`));
  });

  it("refuse a bundle that does not declare the filter's id exactly once", () => {
    expect(() => copyUnder("export default {};", "x-2")).toThrow(/declare id: "profanity-filter"/);
    expect(() => copyUnder(bundle + bundle, "x-2")).toThrow(/once/);
  });
});

function run(round: number, name: CaseRun["name"], ackedPerS: number, ackP50: number): CaseRun {
  const durationS = 10;
  const latency = percentiles([ackP50, ackP50, ackP50]);
  return {
    round,
    name,
    result: {
      ackedPerS,
      durationS,
      ackLatencyMs: latency,
      acked: ackedPerS * durationS,
      sent: ackedPerS * durationS,
      rejects: {},
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      closedLoopTimeouts: 0,
    } as unknown as CaseRun["result"],
    // The runtime's CPU: 1 ms a post without plugins, 2 with one.
    cpu: {
      wallMs: durationS * 1000,
      serverCpuMs: { runtime: ackedPerS * durationS * (name === "none" ? 1 : 2) },
      benchCpuMs: 0,
      othersCores: 0,
    },
    failures: { byOutcome: {}, ms: percentiles([]) },
    loadAverage: [0.2, 0.2, 0.2],
  };
}

describe("the ratios", () => {
  const runs = [
    run(1, "none", 500, 100),
    run(1, "one", 250, 200),
    run(2, "one", 200, 300),
    run(2, "none", 400, 100),
  ];

  it("are to the same round's run without plugins", () => {
    expect(ratios(runs, "one", "committedPerS")).toEqual([0.5, 0.5]);
    expect(ratios(runs, "one", "ackP50")).toEqual([2, 3]);
    expect(ratios(runs, "one", "cpuPerPost")).toEqual([2, 2]);
  });

  it("read as the median with the range", () => {
    expect(ratioText(ratios(runs, "one", "ackP50"))).toBe("2.50× (2.00–3.00)");
    expect(ratioText([0.5])).toBe("0.50×");
    expect(ratioText([NaN])).toBe("–");
  });

  it("work on committed posts: CPU per acked post, busy over the window", () => {
    expect(numbersOf(runs[0]!)).toMatchObject({
      committedPerS: 500,
      cpuPerPost: 1,
      runtimeBusy: 0.5,
    });
  });
});

describe("warnings", () => {
  it("name a post that went through unscreened, and a post not acked", () => {
    const bad = run(1, "one", 100, 10);
    bad.failures = { byOutcome: { timeout: 3 }, ms: percentiles([250, 250, 250]) };
    bad.result = { ...bad.result, acked: 990, rejects: { overloaded: 10 } };
    expect(warnings([run(1, "none", 100, 5), bad])).toEqual([
      'round 1, one: 990 of 1000 posts acked {"overloaded":10}',
      "round 1, one: 3 before-commit calls failed (timeout 3): those posts went through unscreened",
    ]);
  });
});
