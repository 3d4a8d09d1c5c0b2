/**
 * `npm run bench:transcriber`: how well and how fast the local transcriber (src/transcriber/,
 * pocketsphinx_batch) hears the five synthetic sentences of issue17-facts §1c, spoken by espeak-ng
 * and encoded as a browser would, Opus in WebM at 16 and 24 kbit/s (bitexact: the same bytes every
 * run). Each file is sent to `POST /v1/transcribe` one at a time, `--runs` times (3).
 *
 * Per sentence and overall: word error rate (word-level Levenshtein distance over the reference's
 * words), content words found (the words left after the stop words of test/support/voice.ts), and
 * whether the end-to-end test's bar holds; the time per request (median, p95, from the POST to the
 * parsed answer); the peak RSS of the service and of each tool it runs (sampled from /proc every
 * 20 ms). Markdown on stdout, progress on stderr, the samples in bench/results/transcriber-<time>.json.
 */
import { readdir, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startTranscriber, type RunningTranscriber } from "../../test/support/transcriber.ts";
import {
  contentWords,
  contentWordsFound,
  meetsTranscriptBar,
  SENTENCES,
  synthesizeVoice,
  wordEdits,
} from "../../test/support/voice.ts";
import { writeResults } from "../results.ts";
import { now, percentiles, stopOnExit } from "../util.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    kbps: { type: "string", default: "16,24" },
    "long-repeats": { type: "string", default: "5" },
  },
});
const RUNS = Number(args.runs);
const RATES = args.kbps.split(",").map(Number);
/** The long message: the five sentences said this many times over (about 12 s each time). */
const LONG_REPEATS = Number(args["long-repeats"]);

let service: RunningTranscriber | undefined;
stopOnExit(async () => service?.stop());

/** kB of a /proc status field (VmHWM: the peak resident set). */
async function statusKb(pid: number | string, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
}

/** The peak RSS (kB) of the service's children, by name, sampled until stopped. */
function sampleChildren(servicePid: number) {
  const peak = new Map<string, number>();
  const sample = async () => {
    const tasks = await readdir(`/proc/${servicePid}/task`).catch(() => []);
    for (const task of tasks) {
      const children = await readFile(`/proc/${servicePid}/task/${task}/children`, "utf8").catch(
        () => "",
      );
      for (const pid of children.split(/\s+/).filter(Boolean)) {
        // comm is cut at 15 characters (pocketsphinx_ba); a child not yet exec'd is still node.
        const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
        const name = comm.startsWith("pocketsphinx") ? "pocketsphinx_batch" : comm;
        if (name !== "ffmpeg" && name !== "pocketsphinx_batch") continue;
        const hwm = await statusKb(pid, "VmHWM");
        if (hwm > (peak.get(name) ?? 0)) peak.set(name, hwm);
      }
    }
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      await sample();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return Object.fromEntries(peak);
    },
  };
}

type Heard = { kbps: number; run: number; sentence: number; text: string; ms: number };

async function transcribe(
  audio: Uint8Array,
): Promise<{ text: string; ms: number; durationS: number }> {
  const started = now();
  const res = await fetch(`${service!.url}/v1/transcribe`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ audio: Buffer.from(audio).toString("base64") }),
  });
  const body = (await res.json()) as { text?: string; transcription_info?: { duration?: number } };
  const ms = now() - started;
  if (!res.ok || typeof body.text !== "string")
    throw new Error(`the transcriber answered ${res.status}: ${JSON.stringify(body)}`);
  return { text: body.text, ms, durationS: body.transcription_info?.duration ?? NaN };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function main(): Promise<void> {
  const started = Date.now();
  service = await startTranscriber();
  console.error(`bench:transcriber: ${service.url}, ${RUNS} runs at ${RATES.join(", ")} kbit/s`);
  const audio = new Map<number, Uint8Array[]>();
  for (const kbps of RATES)
    audio.set(kbps, await Promise.all(SENTENCES.map((s) => synthesizeVoice(s, { kbps }))));

  const long = await synthesizeVoice(Array(LONG_REPEATS).fill(SENTENCES.join(". ")).join(". "), {
    kbps: 16,
  });

  const sampler = sampleChildren(service.pid);
  const longRuns: { ms: number; durationS: number }[] = [];
  const heard: Heard[] = [];
  for (let run = 1; run <= RUNS; run++)
    for (const kbps of RATES)
      for (const [sentence, bytes] of audio.get(kbps)!.entries()) {
        const { text, ms } = await transcribe(bytes);
        heard.push({ kbps, run, sentence, text, ms });
        console.error(`run ${run} ${kbps}k #${sentence + 1}: ${ms.toFixed(0)} ms: ${text}`);
      }
  for (let run = 1; run <= RUNS; run++) {
    const { ms, durationS } = await transcribe(long);
    longRuns.push({ ms, durationS });
    console.error(`run ${run} long (${durationS.toFixed(1)} s): ${ms.toFixed(0)} ms`);
  }
  const toolsPeakKb = await sampler.stop();
  const servicePeakKb = await statusKb(service.pid, "VmHWM");
  await service.stop();

  const totalWords = SENTENCES.reduce((n, s) => n + s.split(" ").length, 0);
  const totalContent = SENTENCES.reduce((n, s) => n + contentWords(s).length, 0);
  const lines: string[] = [];
  lines.push(`# bench:transcriber (${new Date(started).toISOString()})`, "");
  lines.push(
    `pocketsphinx_batch through the local transcriber, espeak-ng \`-v en-us -s 175\`, Opus in WebM, ${RUNS} runs; ` +
      `${totalWords} words, ${totalContent} content words.`,
    "",
  );
  const summary: Record<string, unknown>[] = [];
  for (const kbps of RATES) {
    const mine = heard.filter((h) => h.kbps === kbps);
    const firstRun = mine.filter((h) => h.run === 1);
    lines.push(`## ${kbps} kbit/s`, "");
    lines.push(
      "| sentence | heard (run 1) | WER | content words | bar |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const h of firstRun) {
      const ref = SENTENCES[h.sentence]!;
      lines.push(
        `| ${ref} | ${h.text || "(nothing)"} | ${wordEdits(ref, h.text)}/${ref.split(" ").length} | ` +
          `${contentWordsFound(ref, h.text)}/${contentWords(ref).length} | ${meetsTranscriptBar(ref, h.text) ? "yes" : "no"} |`,
      );
    }
    const perRun = Array.from({ length: RUNS }, (_, i) => mine.filter((h) => h.run === i + 1));
    const wer = perRun.map(
      (hs) => hs.reduce((n, h) => n + wordEdits(SENTENCES[h.sentence]!, h.text), 0) / totalWords,
    );
    const recall = perRun.map(
      (hs) =>
        hs.reduce((n, h) => n + contentWordsFound(SENTENCES[h.sentence]!, h.text), 0) /
        totalContent,
    );
    const sameEveryRun = perRun.every((hs) => hs.every((h, i) => h.text === firstRun[i]!.text));
    const times = percentiles(mine.map((h) => h.ms));
    lines.push(
      "",
      `WER per run: ${wer.map(pct).join(", ")}; content words found: ${recall.map(pct).join(", ")}; ` +
        `the same transcripts every run: ${sameEveryRun ? "yes" : "no"}; ` +
        `time per request: median ${times.p50.toFixed(0)} ms, p95 ${times.p95.toFixed(0)} ms, max ${times.max.toFixed(0)} ms (n = ${times.n}).`,
      "",
    );
    summary.push({ kbps, wer, recall, sameEveryRun, times });
  }
  const longTimes = percentiles(longRuns.map((r) => r.ms));
  const longS = longRuns[0]!.durationS;
  lines.push(
    `A long message (the five sentences ${LONG_REPEATS} times, ${longS.toFixed(1)} s, 16 kbit/s): ` +
      `median ${(longTimes.p50 / 1000).toFixed(2)} s per request, ${(longTimes.p50 / 1000 / longS).toFixed(3)}× real time ` +
      `(runs: ${longRuns.map((r) => (r.ms / 1000).toFixed(2)).join(", ")} s).`,
    "",
  );
  const tools = Object.entries(toolsPeakKb)
    .map(([name, kb]) => `${name} ${(kb / 1024).toFixed(0)} MiB`)
    .join(", ");
  lines.push(
    `Peak RSS: the service ${(servicePeakKb / 1024).toFixed(0)} MiB; its tools (sampled every 20 ms) ${tools || "not seen"}.`,
  );
  console.log(lines.join("\n"));
  const file = writeResults("transcriber-", started, (Date.now() - started) / 1000, {
    runs: RUNS,
    rates: RATES,
    heard,
    summary,
    long: { repeats: LONG_REPEATS, runs: longRuns },
    servicePeakKb,
    toolsPeakKb,
  });
  console.error(`bench:transcriber: samples in ${file}`);
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await service?.stop();
    process.exit(1);
  },
);
