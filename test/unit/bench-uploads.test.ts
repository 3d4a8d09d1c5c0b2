import { describe, expect, it } from "vitest";
import {
  burstTable,
  cpuPerMiB,
  phasesTable,
  readBackLine,
  throughputTable,
  wasRetried,
  type SizeNumbers,
} from "../../bench/uploads/report.ts";
import {
  addCpu,
  markdownTable,
  MiB,
  mibPerS,
  parseSize,
  quantile,
  sizeLabel,
  splitUpload,
  spread,
  spreadText,
  voicePhases,
  type VoiceTiming,
} from "../../bench/uploads/stats.ts";
import { summarize } from "../../bench/uploads/summary.ts";

/**
 * bench:uploads' arithmetic and tables (bench/uploads/): a part's time must come from the gap
 * between two progress reports and only for whole parts, a voice message's phases must add up
 * to its total, and the tables must say what was measured, or the numbers in the docs would
 * claim what did not happen.
 */

const PART = 5 * MiB;

describe("sizes", () => {
  it("reads bytes, K and M as binary units and names them back", () => {
    expect(parseSize("64K")).toBe(65_536);
    expect(parseSize("50M")).toBe(50 * MiB);
    expect(parseSize("1MiB")).toBe(MiB);
    expect(parseSize("1000")).toBe(1000);
    expect(sizeLabel(65_536)).toBe("64 KiB");
    expect(sizeLabel(50 * MiB)).toBe("50 MiB");
    expect(sizeLabel(1000)).toBe("1000 B");
  });

  it("refuses what is not a size, naming the flag", () => {
    expect(() => parseSize("fifty")).toThrow("--sizes: fifty?");
    expect(() => parseSize("0")).toThrow("at least one byte");
    expect(() => parseSize("5G")).toThrow("--sizes");
  });
});

describe("spread and quantile", () => {
  it("gives the median of an odd and an even count, and the range", () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([NaN, 5]).n).toBe(1);
    expect(spread([]).n).toBe(0);
  });

  it("writes the median with its range, or one value alone", () => {
    expect(spreadText(spread([10, 12.34, 11]))).toBe("11.0 (10.0–12.3)");
    expect(spreadText(spread([7, 7]), 0)).toBe("7");
    expect(spreadText(spread([]))).toBe("–");
  });

  it("takes the nearest-rank quantile, as bench/util.ts's percentiles", () => {
    const values = [50, 10, 40, 20, 30];
    expect(quantile(values, 0.5)).toBe(30);
    expect(quantile(values, 1)).toBe(50);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("turns bytes and milliseconds into MiB/s", () => {
    expect(mibPerS(10 * MiB, 500)).toBe(20);
    expect(mibPerS(MiB, 0)).toBeNaN();
  });
});

describe("splitUpload", () => {
  it("splits a 12 MiB upload into open + part 1, one whole later part, and complete", () => {
    const split = splitUpload(
      { bytes: 12 * MiB, startedAt: 1000, partsAt: [1200, 1350, 1400], endedAt: 1430 },
      PART,
    );
    // Part 3 holds 2 MiB: its 50 ms are not a whole part's time.
    expect(split).toEqual({ totalMs: 430, openAndFirstMs: 200, fullPartMs: [150], completeMs: 30 });
  });

  it("counts every later part of a file of whole parts", () => {
    const split = splitUpload(
      { bytes: 10 * MiB, startedAt: 0, partsAt: [100, 250], endedAt: 260 },
      PART,
    );
    expect(split.fullPartMs).toEqual([150]);
  });

  it("has no later part for a file of one part, and refuses an upload without a report", () => {
    expect(
      splitUpload({ bytes: 65_536, startedAt: 0, partsAt: [40], endedAt: 60 }, PART).fullPartMs,
    ).toEqual([]);
    expect(() => splitUpload({ bytes: 1, startedAt: 0, partsAt: [], endedAt: 1 }, PART)).toThrow();
  });

  it("tells a retried upload by its extra progress reports", () => {
    const upload = { bytes: 10 * MiB, startedAt: 0, partsAt: [1, 2], endedAt: 3 };
    expect(wasRetried(upload, PART)).toBe(false);
    expect(wasRetried({ ...upload, partsAt: [1, 2, 3] }, PART)).toBe(true);
  });
});

const voice = (base: number, overrides: Partial<VoiceTiming> = {}): VoiceTiming => ({
  startedAt: base,
  uploadedAt: base + 70,
  ackedAt: base + 85,
  callAt: base + 90,
  answerAt: base + 840,
  transcribedAt: base + 860,
  ...overrides,
});

describe("voicePhases", () => {
  it("splits release → transcript into phases that add up", () => {
    const p = voicePhases(voice(0));
    expect(p).toEqual({
      uploadMs: 70,
      postAckMs: 15,
      uploadAndPostMs: 85,
      toTranscriptMs: 775,
      commitToCallMs: 5,
      serviceMs: 750,
      answerToEventMs: 20,
      totalMs: 860,
    });
    expect(p.uploadAndPostMs + p.toTranscriptMs).toBe(p.totalMs);
    expect(p.commitToCallMs + p.serviceMs + p.answerToEventMs).toBe(p.toTranscriptMs);
  });

  it("leaves the relay's phases unknown when no request was seen", () => {
    const p = voicePhases(voice(0, { callAt: undefined, answerAt: undefined }));
    expect(p.serviceMs).toBeNaN();
    expect(p.totalMs).toBe(860);
  });
});

describe("addCpu", () => {
  it("sums the windows' CPU by role and weighs others' cores by each window's time", () => {
    const total = addCpu([
      { wallMs: 1000, serverCpuMs: { runtime: 300, proxy: 100 }, benchCpuMs: 50, othersCores: 0.5 },
      { wallMs: 3000, serverCpuMs: { runtime: 600 }, benchCpuMs: 10, othersCores: 0.1 },
    ]);
    expect(total).toEqual({
      wallMs: 4000,
      serverCpuMs: { runtime: 900, proxy: 100 },
      benchCpuMs: 60,
      othersCores: (0.5 * 1000 + 0.1 * 3000) / 4000,
    });
    expect(addCpu([]).othersCores).toBe(0);
  });
});

const upload = (bytes: number, ms: number, parts: number[]) => ({
  bytes,
  startedAt: 0,
  partsAt: parts,
  endedAt: ms,
});

const tenMiB: SizeNumbers = {
  bytes: 10 * MiB,
  sequential: [upload(10 * MiB, 500, [200, 480]), upload(10 * MiB, 250, [100, 240])],
  sequentialCpu: { serverCpuMs: { runtime: 150, proxy: 50 }, othersCores: 0.1 },
  rounds: [
    {
      wallMs: 1000,
      uploads: [upload(10 * MiB, 900, [400, 880]), upload(10 * MiB, 1000, [500, 990])],
    },
  ],
  concurrentCpu: { serverCpuMs: { runtime: 300 }, othersCores: 0.25 },
  reads: [
    { bytes: 10 * MiB, ms: 100, same: true },
    { bytes: 10 * MiB, ms: 200, same: true },
  ],
};

describe("the throughput table", () => {
  it("gives MiB/s one at a time, each and in all at once, part times, CPU per MiB and others' cores", () => {
    const table = throughputTable([tenMiB], PART, 2);
    const [header, align, row] = table.split("\n");
    expect(header).toContain("2 at once: MiB/s in all");
    expect(align).toMatch(/^\| --- \| ---: \|/);
    // 10 MiB in 500 and 250 ms: 20 and 40 MiB/s; at once 11.1 and 10; in all 20 MiB in 1 s.
    expect(row).toBe(
      "| 10 MiB | 2 | 30.0 (20.0–40.0) | 10.6 (10.0–11.1) | 20.0 | 150 (100–200) | 210 (140–280) | 15 (10–20) | 10 / 15 | 0.10 / 0.25 |",
    );
    expect(cpuPerMiB({ serverCpuMs: {} }, [])).toBeNaN();
  });

  it("reads back the size that was read, and says when bytes differ", () => {
    expect(readBackLine([tenMiB])).toContain("of the 10 MiB files: 75.0 (50.0–100.0) MiB/s");
    expect(readBackLine([tenMiB])).toContain("every one the bytes uploaded");
    const bad = { ...tenMiB, reads: [{ bytes: 1, ms: 1, same: false }] };
    expect(readBackLine([bad])).toContain("only 0 of them the bytes uploaded");
    expect(readBackLine([{ ...tenMiB, reads: [] }])).toBeUndefined();
  });
});

describe("the voice tables", () => {
  it("gives each phase's p50 and max over the messages sent alone", () => {
    const table = phasesTable([voice(0), voice(10_000, { transcribedAt: 11_200 })]);
    expect(table).toContain("| **release → transcript** | 860 | 1200 |");
    expect(table).toContain("| the transcriber service (its line and the job) | 750 | 750 |");
  });

  it("lists a burst in the order the transcripts arrived, against the p50 alone", () => {
    const later = { ...voice(0, { transcribedAt: 1720 }), sentence: 1, durationMs: 2600, calls: 1 };
    const first = { ...voice(0), sentence: 0, durationMs: 2900, calls: 1 };
    const rows = burstTable([later, first], 860).split("\n").slice(2);
    expect(rows[0]).toBe("| 1 | #1 (2.9 s) | 85 | 5 | 750 | 775 | 860 | 1.00× |");
    expect(rows[1]).toMatch(/^\| 2 \| #2 \(2\.6 s\) .* \| 1720 \| 2\.00× \|$/);
  });

  it("aligns numeric columns right and text left", () => {
    expect(markdownTable(["a", "b"], [["x", "1 (0–2)"]]).split("\n")[1]).toBe("| --- | ---: |");
  });
});

describe("summarize", () => {
  it("quotes the median of the runs' medians with their range", () => {
    const run = (scale: number) => ({
      startedAt: `2026-11-30T19:0${scale}:00.000Z`,
      loadAtStart: [scale / 10, 0, 0],
      throughput: [
        {
          ...tenMiB,
          sequential: tenMiB.sequential.map((u) => ({ ...u, endedAt: u.endedAt * scale })),
        },
      ],
      voice: {
        single: [voice(0, { transcribedAt: 860 * scale })],
        bursts: [[voice(0, { transcribedAt: 1000 }), voice(0, { transcribedAt: 1720 * scale })]],
      },
    });
    const md = summarize([run(1), run(2), run(4)]);
    expect(md).toContain("3 runs");
    expect(md).toContain("load average at start 0.10, 0.20, 0.40");
    // One at a time: 30, 15 and 7.5 MiB/s medians.
    expect(md).toMatch(/\| 10 MiB \| 15\.0 \(7\.5–30\.0\) \|/);
    expect(md).toContain("| release → transcript, p50 | 1720 (860–3440) |");
    expect(md).toContain("| 4 at once: the last × alone p50 | 2.00 |");
  });
});
