/**
 * bench:uploads' markdown, pure (test/unit/bench-uploads.test.ts): the throughput table by size,
 * the read-back line, the voice messages' phases, and the burst.
 */
import { fmt } from "../report.ts";
import { sum } from "../util.ts";
import {
  markdownTable,
  mibPerS,
  MiB,
  quantile,
  sizeLabel,
  splitUpload,
  spread,
  spreadText,
  voicePhases,
  type UploadTiming,
  type VoicePhases,
  type VoiceTiming,
} from "./stats.ts";

type TimedUpload = UploadTiming;

export type SizeNumbers = {
  bytes: number;
  sequential: TimedUpload[];
  sequentialCpu: { serverCpuMs: Record<string, number>; othersCores: number };
  rounds: { wallMs: number; uploads: TimedUpload[] }[];
  concurrentCpu: { serverCpuMs: Record<string, number>; othersCores: number };
  reads: { bytes: number; ms: number; same: boolean }[];
};

const bytesOf = (uploads: readonly TimedUpload[]) => uploads.reduce((n, u) => n + u.bytes, 0);
const rate = (u: TimedUpload) => mibPerS(u.bytes, u.endedAt - u.startedAt);
const partCount = (bytes: number, partBytes: number) => Math.max(1, Math.ceil(bytes / partBytes));

/** An upload whose progress reports are not one per part was retried: its split means nothing. */
export const wasRetried = (u: TimedUpload, partBytes: number) =>
  u.partsAt.length !== partCount(u.bytes, partBytes);

/** Server CPU (every process of `wrangler dev`) per MiB uploaded. */
export function cpuPerMiB(cpu: { serverCpuMs: Record<string, number> }, uploads: TimedUpload[]) {
  const mib = bytesOf(uploads) / MiB;
  return mib ? sum(cpu.serverCpuMs) / mib : NaN;
}

export function throughputTable(
  sizes: readonly SizeNumbers[],
  partBytes: number,
  concurrency: number,
) {
  const rows = sizes.map((s) => {
    const clean = s.sequential.filter((u) => !wasRetried(u, partBytes));
    const splits = clean.map((u) => splitUpload(u, partBytes));
    const together = s.rounds.flatMap((r) => r.uploads);
    const roundRates = s.rounds.map((r) => mibPerS(bytesOf(r.uploads), r.wallMs));
    return [
      sizeLabel(s.bytes),
      String(partCount(s.bytes, partBytes)),
      spreadText(spread(s.sequential.map(rate))),
      spreadText(spread(together.map(rate))),
      spreadText(spread(roundRates)),
      spreadText(spread(splits.map((x) => x.openAndFirstMs)), 0),
      spreadText(spread(splits.flatMap((x) => x.fullPartMs)), 0),
      spreadText(spread(splits.map((x) => x.completeMs)), 0),
      `${fmt(cpuPerMiB(s.sequentialCpu, s.sequential), 0)} / ${fmt(cpuPerMiB(s.concurrentCpu, together), 0)}`,
      `${fmt(s.sequentialCpu.othersCores, 2)} / ${fmt(s.concurrentCpu.othersCores, 2)}`,
    ];
  });
  return markdownTable(
    [
      "size",
      "parts",
      "one at a time: MiB/s",
      `${concurrency} at once: MiB/s each`,
      `${concurrency} at once: MiB/s in all`,
      "open + part 1 ms",
      "each later 5 MiB part ms",
      "complete ms",
      `server CPU ms per MiB (one / ${concurrency} at once)`,
      "others' cores meanwhile",
    ],
    rows,
  );
}

/** "GET of the 50 MiB files: 310 MiB/s (280–330), 5 reads, every one the bytes uploaded." */
export function readBackLine(sizes: readonly SizeNumbers[]): string | undefined {
  const read = sizes.find((s) => s.reads.length);
  if (!read) return undefined;
  const rates = read.reads.map((r) => mibPerS(r.bytes, r.ms));
  const ms = read.reads.map((r) => r.ms);
  const same = read.reads.filter((r) => r.same).length;
  return (
    `Read back (\`GET …/attachments/{id}\`, the SDK's \`uploads(room).fetch\`, by the uploader) of the ${sizeLabel(read.bytes)} files: ` +
    `${spreadText(spread(rates))} MiB/s, ${spreadText(spread(ms), 0)} ms each, ${read.reads.length} reads; ` +
    `${same === read.reads.length ? "every one the bytes uploaded (SHA-256)" : `only ${same} of them the bytes uploaded`}.`
  );
}

const PHASES: [keyof VoicePhases, string][] = [
  ["uploadMs", "upload (open, 1 part, complete)"],
  ["postAckMs", "post → ack"],
  ["uploadAndPostMs", "**release → ack** (upload + post)"],
  ["commitToCallMs", "ack → the room's request reaches the transcriber"],
  ["serviceMs", "the transcriber service (its line and the job)"],
  ["answerToEventMs", "its answer → the reader's `message.transcribed`"],
  ["toTranscriptMs", "**ack → transcript** on the reader's socket"],
  ["totalMs", "**release → transcript**"],
];

/** The phases of voice messages sent one at a time: p50 and max of each. */
export function phasesTable(samples: readonly VoiceTiming[]): string {
  const phases = samples.map(voicePhases);
  const rows = PHASES.map(([key, label]) => {
    const values = phases.map((p) => p[key]).filter(Number.isFinite);
    return [label, fmt(quantile(values, 0.5), 0), fmt(Math.max(...values), 0)];
  });
  return markdownTable(["phase", "p50 ms", "max ms"], rows);
}

export type BurstSample = VoiceTiming & { sentence: number; durationMs: number; calls: number };

/** A burst, in the order the transcripts arrived, against the p50 of a message alone. */
export function burstTable(burst: readonly BurstSample[], aloneP50Ms: number): string {
  const rows = [...burst]
    .sort((a, b) => a.transcribedAt - b.transcribedAt)
    .map((s, i) => {
      const p = voicePhases(s);
      return [
        String(i + 1),
        `#${s.sentence + 1} (${fmt(s.durationMs / 1000, 1)} s)`,
        fmt(p.uploadAndPostMs, 0),
        fmt(p.commitToCallMs, 0),
        fmt(p.serviceMs, 0),
        fmt(p.toTranscriptMs, 0),
        fmt(p.totalMs, 0),
        `${fmt(p.totalMs / aloneP50Ms, 2)}×`,
      ];
    });
  return markdownTable(
    [
      "arrived",
      "sentence",
      "release → ack ms",
      "ack → request ms",
      "service ms",
      "ack → transcript ms",
      "release → transcript ms",
      "× alone p50",
    ],
    rows,
  );
}
