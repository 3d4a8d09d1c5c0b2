/**
 * `npm run bench:uploads`: upload throughput and the time from a voice message's release to its
 * transcript, through `wrangler dev` with storage on disk (the user path: R2 and the rooms'
 * SQLite under miniflare, in a fresh folder).
 *
 * - Throughput: random files of each `--sizes` through the SDK's `upload`, `--runs` times one
 *   after another, then `--runs` rounds of `--concurrency` people at once (bench/uploads/throughput.ts);
 *   the largest read back.
 * - Release to transcript: the local transcriber (`startTranscriber()`, pocketsphinx) behind a
 *   timing relay (bench/uploads/relay.ts) that the server's TRANSCRIBER_URL names; five sentences
 *   as the UI records them, `--reps` times, one at a time, then `--burst` at once
 *   (bench/uploads/voice.ts).
 *
 * Markdown on stdout, progress on stderr, everything in bench/results/uploads-<time>.json.
 * 127.0.0.1 only; every wait is bounded (30 s per request in the SDK's retries, `--timeout` per
 * transcript, a watchdog over the run); SIGINT and SIGTERM stop the server, the transcriber and
 * the relay and remove the storage.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LIMITS_ATTACHMENTS } from "../../src/protocol/index.ts";
import { RECORDING_BITS_PER_SECOND } from "../../src/web/attachments/media-rules.ts";
import { startTranscriber, type RunningTranscriber } from "../../test/support/transcriber.ts";
import { SENTENCES } from "../../test/support/voice.ts";
import { fmt } from "../report.ts";
import { writeResults } from "../results.ts";
import { REPO_ROOT, startTarget, type RunningServer, type Storage } from "../servers.ts";
import { stopOnExit, sum } from "../util.ts";
import { person, transcriptsHeardBy, type Person } from "./people.ts";
import { startRelay, type Relay } from "./relay.ts";
import { burstTable, phasesTable, readBackLine, throughputTable, wasRetried } from "./report.ts";
import { parseSize, quantile, sizeLabel, voicePhases } from "./stats.ts";
import { measureThroughput, type SizeResult } from "./throughput.ts";
import { makeClips, measureVoice, withCpu, type VoiceCpu, type VoiceResult } from "./voice.ts";

const PARTS = ["throughput", "voice"] as const;

const { values: flags } = parseArgs({
  options: {
    part: { type: "string", default: PARTS.join(",") },
    sizes: { type: "string", default: "64K,1M,10M,50M" },
    runs: { type: "string", default: "5" },
    concurrency: { type: "string", default: "4" },
    reps: { type: "string", default: "3" },
    burst: { type: "string", default: "4" },
    "burst-rounds": { type: "string", default: "1" },
    kbps: { type: "string", default: String(RECORDING_BITS_PER_SECOND / 1000) },
    timeout: { type: "string", default: "120" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const USAGE = [
  "usage: node bench/uploads/run.ts [--part throughput,voice] [--sizes 64K,1M,10M,50M] [--runs N]",
  "       [--concurrency N] [--reps N] [--burst N] [--burst-rounds N] [--kbps N] [--timeout S]",
  "       [--storage disk|tmpfs] [--server-root DIR] [--label TEXT] [--out FILE]",
  "Throughput: each size --runs times one at a time, then --runs rounds of --concurrency people",
  "at once, the largest read back. Voice: five sentences --reps times one at a time, then --burst",
  "messages at once, from release to the reader's message.transcribed. One wrangler dev (disk).",
].join("\n");

const log = (line: string) => console.error(line);

function whole(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${flag}: a whole number from ${min} to ${max}`);
  return n;
}

const parts = flags.part!.split(",").map((p) => p.trim());
for (const p of parts)
  if (!(PARTS as readonly string[]).includes(p))
    throw new Error(`--part: ${p}? any of ${PARTS.join(", ")}`);
const storage = flags.storage as Storage;
if (storage !== "disk" && storage !== "tmpfs") throw new Error("--storage: disk or tmpfs");
const sizes = flags.sizes!.split(",").map(parseSize);
for (const bytes of sizes)
  if (bytes > LIMITS_ATTACHMENTS.fileBytes)
    throw new Error(`--sizes: ${sizeLabel(bytes)} is over a file's limit (100 MiB)`);
// A person may hold 20 unposted uploads in a room; each size's are posted after its windows.
const runs = whole("runs", flags.runs, 1, LIMITS_ATTACHMENTS.pendingPerUser);
const concurrency = whole("concurrency", flags.concurrency, 1, 16);
const reps = whole("reps", flags.reps, 1, 50);
// Each sender of a burst says another sentence, so that the relay tells their requests apart.
const burst = whole("burst", flags.burst, 1, SENTENCES.length);
const burstRounds = whole("burst-rounds", flags["burst-rounds"], 0, 20);
const kbps = whole("kbps", flags.kbps, 6, 128);
const timeoutMs = whole("timeout", flags.timeout, 10, 600) * 1000;
const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);

let server: RunningServer | undefined;
let transcriber: RunningTranscriber | undefined;
let relay: Relay | undefined;
let people: Person[] = [];
const { stopAndExit } = stopOnExit(async () => {
  for (const p of people) p.conn.close();
  await Promise.allSettled([server?.stop(), transcriber?.stop(), relay?.close()]);
});

const loadText = () =>
  loadavg()
    .map((l) => fmt(l, 2))
    .join(" ");

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: serverRoot })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

function throughputSection(results: SizeResult[]): string {
  const partBytes = LIMITS_ATTACHMENTS.partBytes;
  const retried = results
    .flatMap((s) => [...s.sequential, ...s.rounds.flatMap((r) => r.uploads)])
    .filter((u) => wasRetried(u, partBytes));
  return [
    "## Upload throughput",
    "",
    `Random bytes, kind \`file\`, through the SDK's \`upload\` (open, parts of ${sizeLabel(partBytes)} one after another, complete), ` +
      `a fresh file every time: ${runs} uploads of each size by one person one at a time, then ${runs} rounds of ${concurrency} people in the room uploading one file each at the same moment. ` +
      `MiB/s: the file's size over its upload's time (median, min–max); "in all": the round's bytes over the round's time. ` +
      `Part times from the SDK's progress callback (one per part the server took). Server CPU: every process of \`wrangler dev\` (the runtime holds R2 under miniflare) over the uploads' windows; others' cores: what the rest of the machine took meanwhile.`,
    "",
    throughputTable(results, partBytes, concurrency),
    "",
    readBackLine(results) ?? "(no size was read back)",
    ...(retried.length
      ? ["", `Warning: ${retried.length} upload(s) needed a retry; their part times are left out.`]
      : []),
  ].join("\n");
}

function voiceSection(result: VoiceResult & { cpu: VoiceCpu }): string {
  const alone = result.single.map(voicePhases);
  const aloneP50 = quantile(
    alone.map((p) => p.totalMs),
    0.5,
  );
  const heard = result.single.reduce((n, s) => n + s.contentFound, 0);
  const said = result.single.reduce((n, s) => n + s.contentWords, 0);
  const retried = [...result.single, ...result.bursts.flat()].filter((s) => s.calls !== 1).length;
  const messages = result.single.length + result.bursts.flat().length;
  const lengths = [...new Set(result.single.map((s) => s.durationMs))].sort((a, b) => a - b);
  const sizes = [...new Set(result.single.map((s) => s.bytes))].sort((a, b) => a - b);
  return [
    "## Release to transcript",
    "",
    `bench/transcriber's five sentences (espeak-ng, ${fmt(lengths[0]! / 1000, 1)}–${fmt(lengths.at(-1)! / 1000, 1)} s), Opus in WebM at ${kbps} kbit/s ` +
      `(${sizes[0]}–${sizes.at(-1)} bytes), uploaded as voice with the UI's duration and peaks, posted on the sender's socket; ` +
      `the transcript is \`message.transcribed\` on a second person's socket. Transcriber: \`startTranscriber()\` (pocketsphinx, its default jobs: one per core) ` +
      `behind the bench's timing relay. The room runs 2 transcriptions at a time. The clock starts when the upload starts; ` +
      `the browser's decoding of the recording (for duration and waveform) before it is not included.`,
    "",
    `### One at a time (${result.single.length} messages: 5 sentences × ${reps})`,
    "",
    phasesTable(result.single),
    "",
    `While it ran (${fmt(result.cpu.wallMs / 1000, 0)} s, ${messages} messages): the server's CPU ${fmt(sum(result.cpu.serverCpuMs) / messages, 0)} ms per message, ` +
      `the transcriber's (the service, ffmpeg and pocketsphinx) ${fmt(result.cpu.transcriberCpuMs / messages, 0)} ms, the rest of the machine ${fmt(result.cpu.othersCores, 2)} cores.`,
    "",
    `Content words heard: ${heard}/${said}.` +
      (retried ? ` ${retried} message(s) took more than one request to the transcriber.` : ""),
    ...result.bursts.flatMap((b, i) => [
      "",
      `### ${b.length} at once${result.bursts.length > 1 ? `, round ${i + 1}` : ""}`,
      "",
      burstTable(b, aloneP50),
    ]),
  ].join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  log(`bench:uploads: load ${loadText()}; ${parts.join(", ")}`);
  const clips = parts.includes("voice") ? await makeClips(kbps) : [];
  if (parts.includes("voice")) {
    transcriber = await startTranscriber();
    relay = await startRelay(transcriber.url);
  }
  server = await startTarget("edgechat-dev", {
    storage,
    serverRoot,
    vars: relay ? { TRANSCRIBER_URL: relay.url } : {},
  });
  log(
    `  wrangler dev at ${server.url}${relay ? `, TRANSCRIBER_URL ${relay.url} → ${transcriber!.url}` : ""}`,
  );

  let throughput: SizeResult[] | undefined;
  if (parts.includes("throughput")) {
    const room = "bench-uploads";
    const uploaders: Person[] = [];
    for (let i = 0; i < concurrency; i++)
      uploaders.push(await person(server.url, `uploader-${i + 1}`, room, i === 0));
    people.push(...uploaders);
    log(`throughput (load ${loadText()})`);
    throughput = await measureThroughput(
      server,
      uploaders,
      room,
      { sizes, runs, concurrency, readSize: Math.max(...sizes) },
      log,
    );
  }

  let voice: (VoiceResult & { cpu: VoiceCpu }) | undefined;
  if (parts.includes("voice")) {
    const room = "bench-voice";
    const senders: Person[] = [];
    for (let i = 0; i < Math.max(1, burst); i++)
      senders.push(await person(server.url, `speaker-${i + 1}`, room, i === 0));
    const reader = await person(server.url, "listener", room);
    people.push(...senders, reader);
    log(`voice (load ${loadText()})`);
    voice = await withCpu(server, transcriber!.pid, () =>
      measureVoice(
        senders,
        transcriptsHeardBy(reader),
        room,
        clips,
        relay!,
        { reps, burst, burstRounds, timeoutMs },
        log,
      ),
    );
  }
  const loadAtEnd = loadavg();
  for (const p of people) p.conn.close();
  people = [];
  await server.stop();
  server = undefined;
  await transcriber?.stop();
  await relay?.close();

  const elapsed = (Date.now() - started) / 1000;
  const md = [
    `# Uploads and voice messages${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ${loadAtStart.map((l) => fmt(l, 2)).join(" ")}, at the end ${loadAtEnd.map((l) => fmt(l, 2)).join(" ")}. ` +
      `edgechat ${commit()}: \`wrangler dev\` in ${serverRoot}, storage on ${storage}, one server for the run.`,
    "",
    ...(throughput ? [throughputSection(throughput), ""] : []),
    ...(voice ? [voiceSection(voice), ""] : []),
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
  console.log(md);
  const file = writeResults(
    "uploads-",
    started,
    elapsed,
    {
      label: flags.label,
      flags,
      serverRoot,
      commit: commit(),
      loadAtStart,
      loadAtEnd,
      throughput,
      voice,
      relayCalls: relay?.calls,
      markdown: md,
    },
    flags.out,
  );
  log(`results: ${file}`);
}

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

// Past every part's own bounds: a generous multiple of the default run's 3 minutes.
const boundMinutes =
  5 +
  Math.ceil(
    (runs * sizes.reduce((n, b) => n + b, 0) * (1 + concurrency)) / (5 * 1024 * 1024 * 60),
  ) +
  Math.ceil((reps * 5 + burst * burstRounds) * 0.5);
setTimeout(() => {
  log(`bench:uploads: watchdog: gave up after ${boundMinutes} minutes`);
  stopAndExit(2);
}, boundMinutes * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    stopAndExit(1);
  },
);
