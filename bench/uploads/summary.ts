/**
 * `node bench/uploads/summary.ts <uploads-*.json>...`: the headline numbers of several
 * bench:uploads runs, each the median over the runs' own medians with their range (what
 * docs/attachments.md, "Numbers", quotes). Markdown on stdout.
 */
import { readFileSync } from "node:fs";
import { fmt } from "../report.ts";
import { cpuPerMiB, type SizeNumbers } from "./report.ts";
import {
  markdownTable,
  mibPerS,
  quantile,
  sizeLabel,
  splitUpload,
  spread,
  spreadText,
  voicePhases,
  type VoiceTiming,
} from "./stats.ts";

type Run = {
  startedAt: string;
  loadAtStart: number[];
  throughput?: SizeNumbers[];
  voice?: { single: VoiceTiming[]; bursts: VoiceTiming[][] };
};

const PART = 5 * 1024 * 1024;
const median = (values: number[]) => spread(values).median;
const across = (values: number[], digits = 1) => spreadText(spread(values), digits);

export function summarize(runs: readonly Run[]): string {
  const lines: string[] = [];
  lines.push(
    `${runs.length} runs (${runs.map((r) => r.startedAt).join(", ")}), load average at start ${runs.map((r) => fmt(r.loadAtStart[0], 2)).join(", ")}. ` +
      "Each cell: the median of the runs' medians (the range of the runs' medians).",
    "",
  );
  const sizes = runs[0]?.throughput?.map((s) => s.bytes) ?? [];
  if (sizes.length) {
    const rows = sizes.map((bytes) => {
      const of = runs.map((r) => r.throughput!.find((s) => s.bytes === bytes)!);
      const rate = (u: SizeNumbers["sequential"][number]) =>
        mibPerS(u.bytes, u.endedAt - u.startedAt);
      const splits = (s: SizeNumbers) => s.sequential.map((u) => splitUpload(u, PART));
      const laterParts = of.map((s) => median(splits(s).flatMap((x) => x.fullPartMs)));
      return [
        sizeLabel(bytes),
        across(of.map((s) => median(s.sequential.map(rate)))),
        across(of.map((s) => median(s.rounds.flatMap((r) => r.uploads).map(rate)))),
        across(
          of.map((s) =>
            median(
              s.rounds.map((r) =>
                mibPerS(
                  r.uploads.reduce((n, u) => n + u.bytes, 0),
                  r.wallMs,
                ),
              ),
            ),
          ),
        ),
        across(
          of.map((s) => median(splits(s).map((x) => x.openAndFirstMs))),
          0,
        ),
        laterParts.every(Number.isNaN) ? "–" : across(laterParts, 0),
        across(
          of.map((s) => cpuPerMiB(s.sequentialCpu, s.sequential)),
          0,
        ),
      ];
    });
    lines.push(
      markdownTable(
        [
          "size",
          "one at a time MiB/s",
          "4 at once, each MiB/s",
          "4 at once, in all MiB/s",
          "open + part 1 ms",
          "5 MiB part ms",
          "server CPU ms/MiB",
        ],
        rows,
      ),
      "",
    );
    const reads = runs.map((r) => r.throughput!.find((s) => s.reads.length));
    if (reads.every(Boolean))
      lines.push(
        `Read back of the ${sizeLabel(reads[0]!.bytes)} files: ${across(reads.map((s) => median(s!.reads.map((x) => mibPerS(x.bytes, x.ms)))))} MiB/s.`,
        "",
      );
  }
  if (runs.every((r) => r.voice)) {
    const phases = runs.map((r) => r.voice!.single.map(voicePhases));
    const p50 = (key: keyof ReturnType<typeof voicePhases>) =>
      across(
        phases.map((ps) =>
          quantile(
            ps.map((p) => p[key]),
            0.5,
          ),
        ),
        0,
      );
    const lastOfBurst = runs.map((r) => {
      const burst = r.voice!.bursts[0] ?? [];
      return Math.max(...burst.map((s) => s.transcribedAt - s.startedAt));
    });
    const firstOfBurst = runs.map((r) => {
      const burst = r.voice!.bursts[0] ?? [];
      return Math.min(...burst.map((s) => s.transcribedAt - s.startedAt));
    });
    const aloneP50 = phases.map((ps) =>
      quantile(
        ps.map((p) => p.totalMs),
        0.5,
      ),
    );
    lines.push(
      markdownTable(
        ["voice message", "ms"],
        [
          ["release → ack (upload + post), p50", p50("uploadAndPostMs")],
          ["the transcriber service, p50", p50("serviceMs")],
          ["ack → transcript on a reader's socket, p50", p50("toTranscriptMs")],
          ["release → transcript, p50", p50("totalMs")],
          [
            "release → transcript, max",
            across(
              phases.map((ps) => Math.max(...ps.map((p) => p.totalMs))),
              0,
            ),
          ],
          ["4 at once: the first transcript", across(firstOfBurst, 0)],
          ["4 at once: the last transcript", across(lastOfBurst, 0)],
          [
            "4 at once: the last × alone p50",
            across(
              lastOfBurst.map((ms, i) => ms / aloneP50[i]!),
              2,
            ),
          ],
        ],
      ),
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error("usage: node bench/uploads/summary.ts bench/results/uploads-*.json");
    process.exit(2);
  }
  console.log(summarize(files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Run)));
}
