/**
 * `npm run bench:integrations`: what outgoing and incoming webhooks cost and how fast they
 * deliver, through `wrangler dev` with storage on disk (the user path) and its local Queues, to a
 * receiver in this process (./receiver.ts) that answers 200 at once. Four parts:
 *
 * 1. `delivery`: 10 rooms, one `message.posted` webhook each, posts over HTTP at steady rates:
 *    every delivery counted, latency from the post's 201 to the receiver, deliveries per second,
 *    queue messages per post (wrangler's `QUEUE` lines and the hubs' delivery logs).
 * 2. `fanout`: one room with 1, 5 and 10 webhooks, the same measures per delivery.
 * 3. `write-path`: bench:observability's `rooms-300` with no webhook and with one per room, the
 *    variants alternating within rounds; the runtime's CPU per post and the post's latency as
 *    ratios to the same round's no-webhook run, medians over rounds with min–max.
 * 4. `incoming`: posts through an incoming hook (Slack-style body) against plain posts with a
 *    token, alternating window by window, as ratios.
 *
 * A fresh server and storage per run. Markdown on stdout, progress on stderr, everything in
 * bench/results/integrations-<time>.json. Talks to 127.0.0.1 only, stops by itself; SIGINT and
 * SIGTERM stop the server and the receiver and remove the storage.
 */
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ClientKind } from "../clients.ts";
import { fmt, shape } from "../report.ts";
import { writeResults } from "../results.ts";
import { REPO_ROOT, type RunningServer, type Storage } from "../servers.ts";
import { stopOnExit } from "../util.ts";
import type { ServerChoice } from "./common.ts";
import { runDelivery, type DeliveryConfig, type DeliveryRun } from "./delivery.ts";
import { runIncoming, SLACK_BODY, WAYS, type IncomingRun } from "./incoming.ts";
import { startDeliveryReceiver, type DeliveryReceiver } from "./receiver.ts";
import { median } from "./tally.ts";
import {
  ROOMS_300,
  roomsAt,
  runWritePath,
  WRITE_PATH_VARIANTS,
  type WritePathRun,
  type WritePathVariant,
} from "./write-path.ts";

const PARTS = ["delivery", "fanout", "write-path", "incoming"] as const;
type Part = (typeof PARTS)[number];

const { values: flags } = parseArgs({
  options: {
    part: { type: "string", default: PARTS.join(",") },
    rates: { type: "string", default: "50,100,200" },
    rooms: { type: "string", default: "10" },
    webhooks: { type: "string", default: "0,1" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "2" },
    drain: { type: "string", default: "60" },
    fanout: { type: "string", default: "0,1,5,10" },
    "fanout-rate": { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    client: { type: "string", default: "raw" },
    "scenario-duration": { type: "string" },
    "scenario-rate": { type: "string", default: "300,100" },
    "hook-concurrency": { type: "string", default: "1,8" },
    "hook-window": { type: "string", default: "5" },
    "hook-rounds": { type: "string", default: "3" },
    target: { type: "string", default: "edgechat-dev" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const USAGE = [
  "usage: node bench/integrations/run.ts [--part delivery,fanout,write-path,incoming]",
  "       [--rates MSG/S,…] [--rooms N] [--webhooks N,…] [--duration S] [--warmup S] [--drain S]",
  "       [--fanout N,…] [--fanout-rate MSG/S] [--rounds N] [--client raw|sdk]",
  "       [--scenario-rate MSG/S,…] [--scenario-duration S]",
  "       [--hook-concurrency N,…] [--hook-window S] [--hook-rounds N]",
  "       [--target edgechat-dev|edgechat-direct] [--storage disk|tmpfs] [--server-root DIR]",
  "       [--label TEXT] [--out FILE]",
  "delivery: --rooms rooms × each of --webhooks webhooks (0: the baseline), HTTP posts at each of",
  "--rates for --duration s; fanout: 1 room × each of --fanout webhooks at --fanout-rate; write-path: rooms-300 at each --scenario-rate",
  `(${shape(ROOMS_300)}) without and with a webhook per room, --rounds rounds;`,
  "incoming: an incoming hook against plain posts, --hook-rounds rounds of --hook-window s",
  "windows at each --hook-concurrency.",
].join("\n");

const log = (line: string) => console.error(line);

function numbers(flag: string, value: string, integer = false, zero = false): number[] {
  return value.split(",").map((v) => {
    const n = Number(v.trim());
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero) || (integer && !Number.isInteger(n)))
      throw new Error(`--${flag}: positive ${integer ? "whole " : ""}numbers, not ${value}`);
    return n;
  });
}
const one = (flag: string, value: string | undefined, integer = false) =>
  numbers(flag, value!, integer)[0]!;

function parts(): Part[] {
  const named = flags.part!.split(",").map((p) => p.trim());
  for (const p of named)
    if (!(PARTS as readonly string[]).includes(p))
      throw new Error(`--part: ${p}? one of ${PARTS.join(", ")}`);
  return PARTS.filter((p) => named.includes(p));
}

const storage = flags.storage as Storage;
if (storage !== "disk" && storage !== "tmpfs") throw new Error("--storage: disk or tmpfs");
const client = flags.client as ClientKind;
if (client !== "raw" && client !== "sdk") throw new Error("--client: raw or sdk");
const target = flags.target as ServerChoice["target"];
if (target !== "edgechat-dev" && target !== "edgechat-direct")
  throw new Error("--target: edgechat-dev or edgechat-direct");
const server: ServerChoice = {
  target,
  storage,
  serverRoot: resolve(flags["server-root"] ?? REPO_ROOT),
};

function deliveryConfigs(): DeliveryConfig[] {
  const common = {
    duration: one("duration", flags.duration),
    warmup: one("warmup", flags.warmup),
    drain: one("drain", flags.drain),
  };
  const out: DeliveryConfig[] = [];
  if (parts().includes("delivery"))
    for (const rate of numbers("rates", flags.rates!))
      for (const webhooks of numbers("webhooks", flags.webhooks!, true, true))
        out.push({
          ...common,
          part: "delivery",
          rooms: one("rooms", flags.rooms, true),
          webhooksPerRoom: webhooks,
          rate,
        });
  if (parts().includes("fanout"))
    for (const webhooks of numbers("fanout", flags.fanout!, true, true))
      out.push({
        ...common,
        part: "fanout",
        rooms: 1,
        webhooksPerRoom: webhooks,
        rate: one("fanout-rate", flags["fanout-rate"]),
      });
  return out;
}

function writePathScenarios() {
  const duration = flags["scenario-duration"];
  return numbers("scenario-rate", flags["scenario-rate"]!).map((rate) => {
    const s = roomsAt(rate);
    return duration ? { ...s, duration: one("scenario-duration", duration) } : s;
  });
}

// ---------------------------------------------------------------- the report

const ms = (n: number | undefined) => fmt(n, 0);

const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;

const DELIVERY_COLUMNS = [
  "rooms × webhooks",
  "posts/s",
  "acked / sent",
  "deliveries arrived / expected",
  "dup",
  "latency p50 ms",
  "p95",
  "p99",
  "max",
  "p50 split: commit → hub → try → receiver ms",
  "p99 split",
  "deliveries/s in the window",
  "runtime busy in the window",
  "backlog at the end ms, then deliveries/s",
  "queue messages per post: room-events + deliveries",
  "batches: messages each, ms each p50 / p99",
  "runtime CPU ms per post",
  "webhooks' CPU ms per delivery",
  "others' cores",
];

function deliveryTable(runs: DeliveryRun[]): string {
  const lines = [
    row(DELIVERY_COLUMNS),
    row(DELIVERY_COLUMNS.map((_, i) => (i === 0 ? "---" : "---:"))),
  ];
  const busy = (r: DeliveryRun) => (r.windowCpu.serverCpuMs.runtime ?? NaN) / r.windowCpu.wallMs;
  const cpuPerPost = (r: DeliveryRun) => (r.cpu.serverCpuMs.runtime ?? NaN) / r.acked;
  for (const r of runs) {
    const c = r.config;
    const cpu = cpuPerPost(r);
    const baseline = runs.find(
      (b) =>
        b.config.webhooksPerRoom === 0 && b.config.rooms === c.rooms && b.config.rate === c.rate,
    );
    // What the webhooks added to each post, shared out over the post's deliveries.
    const perDelivery = baseline ? (cpu - cpuPerPost(baseline)) / c.webhooksPerRoom : NaN;
    const t = r.tally;
    const q = r.queue;
    const some = c.webhooksPerRoom > 0;
    const deliveryMessages = r.log.attempts;
    const roomEvents = q ? q.messages - deliveryMessages : NaN;
    lines.push(
      row([
        `${c.rooms} × ${c.webhooksPerRoom}`,
        String(c.rate),
        `${r.acked}/${r.sent}`,
        some ? `${t.delivered}/${t.expected}` : "",
        some ? String(t.duplicates) : "",
        ...[t.latencyMs.p50, t.latencyMs.p95, t.latencyMs.p99, t.latencyMs.max].map((v) =>
          some ? ms(v) : "",
        ),
        ...(["p50", "p99"] as const).map((p) =>
          some
            ? [r.hops.toHub, r.hops.toTry, r.hops.toReceiver].map((h) => ms(h[p])).join(" + ")
            : "",
        ),
        some ? fmt(t.deliveriesPerS) : "",
        fmt(busy(r), 2),
        some
          ? `${ms(t.backlogMs)}${Number.isFinite(t.drainPerS) ? `, ${fmt(t.drainPerS, 0)}` : ""}`
          : "",
        some
          ? `${fmt(roomEvents / r.acked, 2)} + ${fmt(deliveryMessages / r.acked, 2)} = ${fmt((q?.messages ?? NaN) / r.acked, 2)}`
          : "",
        q
          ? `${q.batches}: ${fmt(q.messages / q.batches, 1)}, ${ms(q.batchMs.p50)} / ${ms(q.batchMs.p99)}`
          : "",
        fmt(cpu, 2),
        some ? fmt(perDelivery, 2) : "",
        fmt(r.cpu.othersCores, 2),
      ]),
    );
  }
  return lines.join("\n");
}

/** The numbers part 3 compares, per run. */
function writePathNumbers(run: WritePathRun) {
  const r = run.result;
  const acked = r.ackedPerS * r.durationS;
  const runtime = run.cpu.serverCpuMs.runtime ?? NaN;
  return {
    cpuPerPost: runtime / acked,
    ackP50: r.ackLatencyMs.p50,
    ackP99: r.ackLatencyMs.p99,
    fanoutP50: r.latencyMs.p50,
    fanoutP99: r.latencyMs.p99,
    delivered: r.messagesPerS,
    runtimeBusy: runtime / run.cpu.wallMs,
  };
}
type WritePathKey = keyof ReturnType<typeof writePathNumbers>;
const COMPARED: WritePathKey[] = ["cpuPerPost", "ackP50", "ackP99", "fanoutP50", "fanoutP99"];

/** `1.08× (0.95–1.21)`: the median over rounds of the ratio to that round's baseline, its range. */
function ratioText(ratios: number[]): string {
  const r = ratios.filter(Number.isFinite);
  if (r.length === 0) return "–";
  const spread = r.length > 1 ? ` (${fmt(Math.min(...r), 2)}–${fmt(Math.max(...r), 2)})` : "";
  return `${fmt(median(r), 2)}×${spread}`;
}

function writePathTables(runs: WritePathRun[]): string {
  const of = (v: WritePathVariant) => runs.filter((r) => r.variant === v);
  // One scenario's runs: each is compared with the no-webhook run of its round.
  const base = (round: number) => runs.find((r) => r.variant === "none" && r.round === round);
  const lines = [
    "| variant | runtime CPU ms/post | ×none | post (ack) p50 ms | ×none | ack p99 ms | ×none | fan-out p50 ms | ×none | fan-out p99 ms | ×none | delivered msg/s | webhook deliveries arrived / expected | webhook deliveries/s in the window | commit → receiver p50 / p99 ms | last delivery after the window ms | others' cores |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const v of WRITE_PATH_VARIANTS) {
    const mine = of(v);
    if (mine.length === 0) continue;
    const m = (k: WritePathKey) => median(mine.map((r) => writePathNumbers(r)[k]));
    const x = (k: WritePathKey) =>
      v === "none"
        ? ""
        : ratioText(
            mine.map((r) => {
              const b = base(r.round);
              return b ? writePathNumbers(r)[k] / writePathNumbers(b)[k] : NaN;
            }),
          );
    const arrived = mine.reduce((a, r) => a + (r.deliveries?.delivered ?? 0), 0);
    const expected = mine.reduce((a, r) => a + (r.deliveries?.expected ?? 0), 0);
    const hooked = v !== "none";
    const md = (get: (r: WritePathRun) => number | undefined) =>
      median(mine.map((r) => get(r) ?? NaN));
    const webhookCells = hooked
      ? `${arrived}/${expected} | ${fmt(md((r) => r.deliveries?.deliveriesPerS))} | ${ms(md((r) => r.deliveryLatencyMs?.p50))} / ${ms(md((r) => r.deliveryLatencyMs?.p99))} | ${ms(md((r) => r.lastDeliveryAfterWindowMs))}`
      : ["", "", "", ""].join(" | ");
    lines.push(
      `| ${v === "none" ? "no webhook" : "one webhook per room"} | ${fmt(m("cpuPerPost"), 3)} | ${x("cpuPerPost")} | ${fmt(m("ackP50"), 2)} | ${x("ackP50")} | ${fmt(m("ackP99"), 2)} | ${x("ackP99")} | ${fmt(m("fanoutP50"), 2)} | ${x("fanoutP50")} | ${fmt(m("fanoutP99"), 2)} | ${x("fanoutP99")} | ${fmt(m("delivered"))} | ${webhookCells} | ${fmt(median(mine.map((r) => r.cpu.othersCores)), 2)} |`,
    );
  }
  lines.push(
    "",
    "| round | variant | runtime CPU ms/post | runtime busy | ack p50 / p99 ms | fan-out p50 / p99 ms | acked / sent | lost / dup / reorder | deliveries arrived / expected (dup) | others' cores | load at start |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const run of runs) {
    const n = writePathNumbers(run);
    const r = run.result;
    const d = run.deliveries;
    lines.push(
      `| ${run.round} | ${run.variant} | ${fmt(n.cpuPerPost, 3)} | ${fmt(n.runtimeBusy, 2)} | ${fmt(n.ackP50, 2)} / ${fmt(n.ackP99, 2)} | ${fmt(n.fanoutP50, 2)} / ${fmt(n.fanoutP99, 2)} | ${r.acked}/${r.sent} | ${r.lost} / ${r.duplicates} / ${r.outOfOrder} | ${d ? `${d.delivered}/${d.expected} (${d.duplicates})` : ""} | ${fmt(run.cpu.othersCores, 2)} | ${fmt(run.loadAverage[0], 2)} |`,
    );
  }
  return lines.join("\n");
}

function incomingTable(run: IncomingRun): string {
  const lines = [
    "| in flight | way | posts/s | ×plain | latency p50 ms | ×plain | p99 ms | ×plain | runtime CPU ms/post | ×plain | others' cores |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const concurrencies = [...new Set(run.windows.map((w) => w.concurrency))];
  for (const c of concurrencies)
    for (const way of WAYS) {
      const mine = run.windows.filter((w) => w.concurrency === c && w.way === way);
      const numbers = (w: (typeof mine)[number]) => ({
        postsPerS: w.postsPerS,
        p50: w.latencyMs.p50,
        p99: w.latencyMs.p99,
        cpu: (w.cpu.serverCpuMs.runtime ?? NaN) / (w.posts || NaN),
      });
      const m = (k: keyof ReturnType<typeof numbers>) => median(mine.map((w) => numbers(w)[k]));
      const plainOf = (w: (typeof mine)[number]) =>
        run.windows.find((p) => p.way === "plain" && p.concurrency === c && p.round === w.round);
      const x = (k: keyof ReturnType<typeof numbers>) =>
        way === "plain"
          ? ""
          : ratioText(
              mine.map((w) => {
                const p = plainOf(w);
                return p ? numbers(w)[k] / numbers(p)[k] : NaN;
              }),
            );
      lines.push(
        `| ${c} | ${way === "hook" ? "incoming hook" : "plain POST …/messages"} | ${fmt(m("postsPerS"))} | ${x("postsPerS")} | ${fmt(m("p50"), 2)} | ${x("p50")} | ${fmt(m("p99"), 2)} | ${x("p99")} | ${fmt(m("cpu"), 3)} | ${x("cpu")} | ${fmt(median(mine.map((w) => w.cpu.othersCores)), 2)} |`,
      );
    }
  return lines.join("\n");
}

type Results = {
  delivery: DeliveryRun[];
  writePath: WritePathRun[];
  incoming?: IncomingRun;
};

function warnings(results: Results): string[] {
  const out: string[] = [];
  for (const r of results.delivery)
    for (const p of r.problems)
      out.push(
        `${r.config.part} ${r.config.rooms}×${r.config.webhooksPerRoom} at ${r.config.rate}/s: ${p}`,
      );
  for (const run of results.writePath) {
    const name = `write-path round ${run.round} ${run.variant}`;
    const r = run.result;
    if (r.acked !== r.sent)
      out.push(`${name}: ${r.acked} of ${r.sent} posts acked ${JSON.stringify(r.rejects)}`);
    if (r.lost || r.duplicates || r.outOfOrder)
      out.push(`${name}: ${r.lost} lost, ${r.duplicates} duplicates, ${r.outOfOrder} reorders`);
    const d = run.deliveries;
    if (d && (d.missing || d.duplicates || d.unexpected))
      out.push(
        `${name}: webhook deliveries ${d.missing} missing, ${d.duplicates} duplicates, ${d.unexpected} unexpected`,
      );
  }
  const inc = results.incoming;
  if (inc) {
    for (const w of inc.windows)
      if (Object.keys(w.failures).length)
        out.push(
          `incoming round ${w.round} ${w.way} ×${w.concurrency}: failures ${JSON.stringify(w.failures)}`,
        );
    if (inc.inLog !== inc.answered)
      out.push(`incoming: ${inc.answered} posts answered, ${inc.inLog} in the room's log`);
  }
  return out;
}

function markdown(
  started: number,
  elapsed: number,
  results: Results,
  loadAtStart: number[],
): string {
  const sections: string[] = [
    `## Integrations${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average at start ${loadAtStart.map((l) => fmt(l, 2)).join(" ")}, at the end ${loadavg()
      .map((l) => fmt(l, 2))
      .join(" ")}. ` +
      `edgechat: \`wrangler dev\` in ${server.serverRoot}${target === "edgechat-direct" ? " (the clients straight to its runtime, past the dev proxy)" : ""}, storage on ${storage}, \`WEBHOOK_ALLOW_LOOPBACK=true\`, its local Queues (miniflare); a fresh server and storage per run. ` +
      "The receiver (this process, node:http, keep-alive) answers 200 at once. " +
      "Runtime CPU is the worker's workerd (worker, rooms, hubs, the queue's consumer); others' cores what the rest of the machine took meanwhile.",
  ];
  const delivery = results.delivery.filter((r) => r.config.part === "delivery");
  const fanout = results.delivery.filter((r) => r.config.part === "fanout");
  if (delivery.length)
    sections.push(
      "",
      "### Delivery: rooms × one webhook each",
      "",
      `Posts over HTTP (\`POST /api/rooms/{room}/messages\`, guests, ≤ 10/s each) round-robin over the rooms, open loop, ${delivery[0]!.config.duration} s measured after ${delivery[0]!.config.warmup} s; every acked post must arrive once per endpoint. ` +
        "Latency: from the post's 201 (the commit) to the receiver's arrival; split by the hubs' delivery logs into the commit to the hub's delivery (the feed's 100 ms, the room-events message's wait in the queue, `accept`), the delivery to its try (the delivery message's wait), and the try to the receiver. Deliveries/s: first arrivals inside the measured window; the backlog: from the window's end to the last delivery, and how fast it drained. " +
        "Queue messages: every message the consumer was handed (wrangler's `QUEUE` lines), split into deliveries (the tries in the hubs' delivery logs) and room-events (the rest). " +
        "Runtime CPU per post: from the first post to the last delivery; webhooks' CPU per delivery: that less the 0-webhook run's at the same rate, over the post's deliveries. " +
        "Runtime busy: the runtime's CPU over the measured window's wall time (1.00: its one thread is saturated).",
      "",
      deliveryTable(delivery),
    );
  if (fanout.length)
    sections.push(
      "",
      "### Fan-out: one room × 1, 5, 10 webhooks",
      "",
      "As above, in one room; latency and rates per delivery.",
      "",
      deliveryTable(fanout),
    );
  for (const s of writePathScenarios()) {
    const runs = results.writePath.filter((r) => r.scenario === s.name);
    if (runs.length === 0) continue;
    sections.push(
      "",
      `### The feed's cost on the write path: ${s.name}`,
      "",
      `bench:observability's \`rooms-300\`${s.rate === 300 ? "" : ` at ${s.rate} msg/s`} (${shape(s)}; ${client} clients over WebSockets) with no webhook and with one \`message.posted\` webhook per room; ` +
        `${Math.max(...runs.map((r) => r.round))} rounds, the two alternating (none, webhook; then webhook, none; …). ×none: the median over rounds of the ratio to the same round's no-webhook run (min–max). ` +
        "CPU: the runtime in the measured window per acked post, with whatever deliveries ran in the window (all of them only if the deliveries kept up: see deliveries/s in the window and the last delivery after it).",
      "",
      writePathTables(runs),
    );
  }
  if (results.incoming)
    sections.push(
      "",
      "### Incoming webhooks against a plain post",
      "",
      `One room; \`POST /api/hooks/{room}/{hook}/{secret}\` with a Slack-style body (\`${SLACK_BODY}\`) against \`POST /api/rooms/{room}/messages\` with a guest's token, closed loop with N requests in flight, windows of ${flags["hook-window"]} s alternating (hook, plain; then plain, hook), ${flags["hook-rounds"]} rounds; ` +
        "`LIMIT_COMMANDS_PER_SECOND` and `_BURST` lifted so that the bot's budget does not cap the run. ×plain: the median over rounds of the ratio to the same round's plain window.",
      "",
      incomingTable(results.incoming),
      "",
      `Posts answered ${results.incoming.answered}; message.posted in the room's log ${results.incoming.inLog}.`,
    );
  const problems = warnings(results);
  sections.push(
    "",
    problems.length
      ? ["Warnings:", ...problems.map((p) => `- ${p}`)].join("\n")
      : "No warnings: every post acked, every delivery arrived once, every incoming post in the log.",
    "",
    `Run time: ${elapsed.toFixed(0)} s.`,
  );
  return sections.join("\n");
}

// ---------------------------------------------------------------- the run

let running: RunningServer | undefined;
let receiver: DeliveryReceiver | undefined;
const setRunning = (s: RunningServer | undefined) => (running = s);
const { stopAndExit } = stopOnExit(() => Promise.all([running?.stop(), receiver?.close()]));

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  receiver = await startDeliveryReceiver();
  const results: Results = { delivery: [], writePath: [] };
  for (const config of deliveryConfigs()) {
    log(
      `[${config.part} ${config.rooms}×${config.webhooksPerRoom} at ${config.rate}/s] starting (load ${loadavg()
        .map((l) => fmt(l, 2))
        .join(" ")})`,
    );
    const run = await runDelivery(config, receiver, server, log, setRunning);
    const t = run.tally;
    log(
      `  ${t.delivered}/${t.expected} delivered, p50/p99 ${ms(t.latencyMs.p50)}/${ms(t.latencyMs.p99)} ms, ${fmt(t.deliveriesPerS)}/s, ` +
        `queue ${run.queue?.messages ?? "?"} messages, others ${fmt(run.cpu.othersCores, 2)} cores${run.problems.length ? `; ${run.problems.join("; ")}` : ""}`,
    );
    results.delivery.push(run);
  }
  if (parts().includes("write-path")) {
    const rounds = one("rounds", flags.rounds, true);
    for (let round = 1; round <= rounds; round++)
      for (const s of writePathScenarios()) {
        const order = round % 2 ? WRITE_PATH_VARIANTS : [...WRITE_PATH_VARIANTS].reverse();
        for (const variant of order) {
          log(
            `[write-path round ${round} ${s.name} ${variant}] starting (load ${loadavg()
              .map((l) => fmt(l, 2))
              .join(" ")})`,
          );
          const run = await runWritePath(
            round,
            variant,
            s,
            client,
            receiver,
            server,
            log,
            setRunning,
          );
          const cpu =
            (run.cpu.serverCpuMs.runtime ?? NaN) / (run.result.ackedPerS * run.result.durationS);
          log(
            `  runtime CPU ${fmt(cpu, 3)} ms/post, ack p50/p99 ${fmt(run.result.ackLatencyMs.p50, 2)}/${fmt(run.result.ackLatencyMs.p99, 2)} ms, ` +
              `others ${fmt(run.cpu.othersCores, 2)} cores` +
              (run.deliveries
                ? `, webhook deliveries ${run.deliveries.delivered}/${run.deliveries.expected}`
                : ""),
          );
          results.writePath.push(run);
        }
      }
  }
  if (parts().includes("incoming")) {
    log(
      `[incoming] starting (load ${loadavg()
        .map((l) => fmt(l, 2))
        .join(" ")})`,
    );
    results.incoming = await runIncoming(
      {
        rounds: one("hook-rounds", flags["hook-rounds"], true),
        windowS: one("hook-window", flags["hook-window"]),
        concurrency: numbers("hook-concurrency", flags["hook-concurrency"]!, true),
        warmup: 20,
      },
      server,
      log,
      setRunning,
    );
  }
  await receiver.close();
  receiver = undefined;
  const elapsed = (Date.now() - started) / 1000;
  const md = markdown(started, elapsed, results, loadAtStart);
  console.log(md);
  const file = writeResults(
    "integrations-",
    started,
    elapsed,
    {
      label: flags.label,
      flags,
      serverRoot: server.serverRoot,
      storage,
      loadAtStart,
      delivery: results.delivery,
      // The load benchmark's per-post timelines are long and not read here.
      writePath: results.writePath.map(({ result: { timeline: _t, ...result }, ...run }) => ({
        ...run,
        result,
      })),
      incoming: results.incoming,
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

/** Every run has its own bounds (sign-ins, drains, windows); this catches anything past them. */
function watchdogMinutes(): number {
  const perDelivery = (c: DeliveryConfig) => 2 + (c.warmup + c.duration + c.drain) / 60;
  const writePath = parts().includes("write-path")
    ? 2 * one("rounds", flags.rounds) * writePathScenarios().length * 3
    : 0;
  const incoming = parts().includes("incoming") ? 3 : 0;
  return 5 + deliveryConfigs().reduce((a, c) => a + perDelivery(c), 0) + writePath + incoming;
}
const bound = watchdogMinutes();
setTimeout(() => {
  log(`bench: watchdog: gave up after ${bound.toFixed(0)} minutes`);
  stopAndExit(2);
}, bound * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    stopAndExit(1);
  },
);
