/**
 * bench:uploads' arithmetic and tables, pure (test/unit/bench-uploads.test.ts): sizes from the
 * flags, an upload's time split by part from the SDK's progress callbacks, medians and ranges,
 * and the voice messages' phases from the times each was seen at.
 */
import { fmt } from "../report.ts";

export const MiB = 1024 * 1024;

/** A size flag: a whole number of bytes, or with K or M (binary: 64K = 65,536 bytes). */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*([KkMm]?)(i?B)?$/.exec(text.trim());
  if (!match) throw new Error(`--sizes: ${text}? a number of bytes, or with K or M (64K, 50M)`);
  const scale = { "": 1, k: 1024, m: MiB }[match[2]!.toLowerCase() as "" | "k" | "m"];
  const bytes = Number(match[1]) * scale;
  if (bytes < 1) throw new Error(`--sizes: ${text}? at least one byte`);
  return bytes;
}

/** A size as people read it: 64 KiB, 1 MiB, 50 MiB. */
export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export type Spread = { median: number; min: number; max: number; n: number };

/** The median (the mean of the middle two for an even count), the lowest and the highest. */
export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(n / 2);
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]!, n };
}

/** "12.3 (10.1–14.0)": a median and its range, or the one value when there is one. */
export function spreadText(s: Spread, digits = 1): string {
  if (s.n === 0) return "–";
  if (s.n === 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export const mibPerS = (bytes: number, ms: number) => (ms > 0 ? bytes / MiB / (ms / 1000) : NaN);

/** The p-quantile of `values` by the nearest rank (bench/util.ts's `percentiles` does the same). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One upload through the SDK: when it started, each part's progress callback, when it ended. */
export type UploadTiming = {
  bytes: number;
  startedAt: number;
  /** `onProgress` times, one per part the server took, in order. */
  partsAt: number[];
  endedAt: number;
};

export type UploadSplit = {
  totalMs: number;
  /** From the start to part 1's receipt: opening the upload, then part 1. */
  openAndFirstMs: number;
  /** Each later part that is a whole `partBytes`, from the receipt of the one before. */
  fullPartMs: number[];
  /** From the last part's receipt to the attachment: R2 assembles the object. */
  completeMs: number;
};

/**
 * An upload's time by part. The SDK sends the parts in order, one at a time, and reports each
 * once the server took it, so the gap between two reports is one part's request. A last part
 * shorter than `partBytes` is left out of `fullPartMs` (its time is not a whole part's).
 */
export function splitUpload(t: UploadTiming, partBytes: number): UploadSplit {
  const parts = t.partsAt;
  if (parts.length === 0) throw new Error("an upload without a part");
  const fullPartMs: number[] = [];
  for (let i = 1; i < parts.length; i++) {
    const partEnd = Math.min(t.bytes, (i + 1) * partBytes);
    if (partEnd - i * partBytes === partBytes) fullPartMs.push(parts[i]! - parts[i - 1]!);
  }
  return {
    totalMs: t.endedAt - t.startedAt,
    openAndFirstMs: parts[0]! - t.startedAt,
    fullPartMs,
    completeMs: t.endedAt - parts.at(-1)!,
  };
}

/** A voice message's path from release to transcript, the times as the bench saw them. */
export type VoiceTiming = {
  /** The upload starts (the UI does this on release, after decoding the recording). */
  startedAt: number;
  /** The SDK's upload answered the attachment. */
  uploadedAt: number;
  /** The post's ack came back on the sender's socket: the message is committed. */
  ackedAt: number;
  /** The room's request reached the transcriber (through the bench's timing relay). */
  callAt?: number;
  /** The transcriber's answer passed the relay. */
  answerAt?: number;
  /** The reader's socket got `message.transcribed` for the attachment. */
  transcribedAt: number;
};

export type VoicePhases = {
  uploadMs: number;
  postAckMs: number;
  /** Release to the post's ack: upload and post. */
  uploadAndPostMs: number;
  /** The ack to the reader's `message.transcribed`. */
  toTranscriptMs: number;
  /** Of which: the room taking the job and reading the bytes, up to the transcriber's request. */
  commitToCallMs: number;
  /** Of which: the transcriber service (its queue and the job). */
  serviceMs: number;
  /** Of which: the answer to the reader's event (the room's commit and fan-out). */
  answerToEventMs: number;
  totalMs: number;
};

export function voicePhases(t: VoiceTiming): VoicePhases {
  const call = t.callAt ?? NaN;
  const answer = t.answerAt ?? NaN;
  return {
    uploadMs: t.uploadedAt - t.startedAt,
    postAckMs: t.ackedAt - t.uploadedAt,
    uploadAndPostMs: t.ackedAt - t.startedAt,
    toTranscriptMs: t.transcribedAt - t.ackedAt,
    commitToCallMs: call - t.ackedAt,
    serviceMs: answer - call,
    answerToEventMs: t.transcribedAt - answer,
    totalMs: t.transcribedAt - t.startedAt,
  };
}

/** Markdown table from a header and rows; numbers are right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]) {
  const align = header.map((_, i) =>
    rows.length && rows.every((r) => /^[\d.,–()\s×%/-]+$/.test(r[i] ?? "")) ? "---:" : "---",
  );
  return [
    `| ${header.join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** What `cpuWindow` (bench/integrations/common.ts) measures, for windows added together. */
export type CpuSpent = {
  wallMs: number;
  serverCpuMs: Record<string, number>;
  benchCpuMs: number;
  othersCores: number;
};

/** Several CPU windows as one: times summed, others' cores weighted by each window's length. */
export function addCpu(windows: readonly CpuSpent[]): CpuSpent {
  const serverCpuMs: Record<string, number> = {};
  let wallMs = 0;
  let benchCpuMs = 0;
  let othersMs = 0;
  for (const w of windows) {
    wallMs += w.wallMs;
    benchCpuMs += w.benchCpuMs;
    othersMs += w.othersCores * w.wallMs;
    for (const [role, ms] of Object.entries(w.serverCpuMs))
      serverCpuMs[role] = (serverCpuMs[role] ?? 0) + ms;
  }
  return { wallMs, serverCpuMs, benchCpuMs, othersCores: wallMs ? othersMs / wallMs : 0 };
}
