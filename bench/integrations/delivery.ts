/**
 * Outgoing webhooks' delivery, end to end through `wrangler dev` and its local Queues: rooms with
 * `message.posted` endpoints at the bench's receiver, posts over HTTP at a steady rate, and for
 * every acked post, when each of its deliveries arrived. One fresh server and storage per run.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createRoom, signInGuest } from "../http.ts";
import { startTarget, type RunningServer } from "../servers.ts";
import { inBatches, now, sleep, withTimeout } from "../util.ts";
import {
  addCounts,
  addWebhook,
  benchText,
  cpuWindow,
  postOverHttp,
  readDeliveryLog,
  type CpuWindow,
  type DeliveryLogCounts,
  type ServerChoice,
} from "./common.ts";
import type { DeliveryReceiver } from "./receiver.ts";
import {
  latencyHops,
  queueCounts,
  tallyDeliveries,
  type DeliveryTally,
  type LatencyHops,
  type LoggedDelivery,
  type Post,
  type QueueCounts,
} from "./tally.ts";

export type DeliveryConfig = {
  /** `delivery` (many rooms) or `fanout` (one room, many endpoints). */
  part: string;
  rooms: number;
  webhooksPerRoom: number;
  /** Posts per second over all rooms. */
  rate: number;
  duration: number;
  warmup: number;
  /** How long to wait, at most, for the last deliveries after the last answer. */
  drain: number;
};

export type DeliveryRun = {
  config: DeliveryConfig;
  sent: number;
  acked: number;
  refused: Record<string, number>;
  /** Each acked post's answer time, p50/p99 (the post itself, for reference). */
  postLatencyMs: { p50: number; p99: number };
  tally: DeliveryTally;
  /** Where the latency went, per hop (measured posts). */
  hops: LatencyHops;
  /** The `INTEGRATIONS` queue's consumer, from wrangler's QUEUE lines, over the whole run. */
  queue?: QueueCounts;
  deadLetters?: QueueCounts;
  /** Every endpoint's delivery log, read through the API after the run. */
  log: DeliveryLogCounts;
  /** From the first post to the last delivery (or the drain's bound). */
  cpu: CpuWindow;
  /** The measured window alone: how busy the runtime was while posts came in. */
  windowCpu: CpuWindow;
  /** From the last answer to the last delivery, or the bound. */
  drainMs: number;
  maxSendLagMs: number;
  loadAverage: number[];
  /** Anything that makes the run's numbers not what they claim. */
  problems: string[];
};

const postersFor = (perRoomRate: number) => Math.max(1, Math.ceil(perRoomRate / 10));

/**
 * Posters per room keep each user at 10 posts a second or less, half the room's per-user
 * budget (LIMIT_COMMANDS_PER_SECOND, 20), so the limits stay as shipped.
 */
export async function runDelivery(
  config: DeliveryConfig,
  receiver: DeliveryReceiver,
  server: ServerChoice,
  log: (line: string) => void,
  running: (s: RunningServer | undefined) => void,
): Promise<DeliveryRun> {
  const loadAverage = loadavg();
  const started = await startTarget(server.target, {
    ...server,
    logLevel: "info",
    vars: { WEBHOOK_ALLOW_LOOPBACK: "true" },
  });
  running(started);
  try {
    return await measure(config, receiver, started, log, loadAverage);
  } finally {
    await started.stop();
    running(undefined);
  }
}

async function measure(
  config: DeliveryConfig,
  receiver: DeliveryReceiver,
  server: RunningServer,
  log: (line: string) => void,
  loadAverage: number[],
): Promise<DeliveryRun> {
  const base = server.url;
  const rooms = [...Array(config.rooms).keys()].map((r) => `wh-${r}`);
  const owner = await signInGuest(base, "bench-owner");
  const endpoints = new Map<string, { path: string; id: string }[]>();
  for (const room of rooms) {
    await createRoom(base, owner, room);
    const list = [];
    for (let k = 0; k < config.webhooksPerRoom; k++) {
      const path = `/w/${room}/${k}`;
      list.push({ path, id: await addWebhook(base, owner, room, receiver.url(path)) });
    }
    endpoints.set(room, list);
  }
  const perRoom = postersFor(config.rate / config.rooms);
  const tokens: string[] = new Array(rooms.length * perRoom);
  await withTimeout(
    inBatches([...tokens.keys()], 10, async (i) => {
      tokens[i] = await signInGuest(base, `p${String(i).padStart(4, "0")}`);
    }),
    120_000,
    "guest sign-in",
  );
  receiver.forget();

  const end = cpuWindow(server);
  const start = now() + 100;
  const window = { start: start + config.warmup * 1000, end: 0 };
  window.end = window.start + config.duration * 1000;
  let windowEnd: (() => CpuWindow) | undefined;
  let windowCpu: CpuWindow | undefined;
  const timers = [
    setTimeout(() => (windowEnd = cpuWindow(server)), window.start - now()),
    setTimeout(() => (windowCpu = windowEnd?.()), window.end - now()),
  ];
  const { posts, maxSendLagMs } = await openLoop(config.rate, start, window, (n, measured) => {
    const r = n % rooms.length;
    const poster = Math.floor(n / rooms.length) % perRoom;
    return postOverHttp(base, tokens[r * perRoom + poster]!, rooms[r]!, benchText(n), measured);
  });
  const answered = now();
  timers.forEach(clearTimeout);
  windowCpu ??= windowEnd?.();
  const paths = (room: string) => (endpoints.get(room) ?? []).map((e) => e.path);
  const acked = posts.filter((p) => p.seq !== undefined);
  const expected = acked.length * config.webhooksPerRoom;
  await drain(receiver, expected, config.drain * 1000);
  const drainMs = now() - answered;
  const cpu = end();
  // The QUEUE line of the last batch is written once the batch is done.
  await sleep(1500);
  const queues = queueCounts(readFileSync(server.logFile!, "utf8"));
  let logCounts: DeliveryLogCounts = { deliveries: 0, attempts: 0, byStatus: {} };
  const logged: LoggedDelivery[] = [];
  for (const [room, list] of endpoints)
    for (const { id, path } of list)
      logCounts = addCounts(logCounts, await readDeliveryLog(base, owner, room, id, path, logged));

  const tally = tallyDeliveries(posts, receiver.arrivals, paths, window);
  const refused: Record<string, number> = {};
  for (const p of posts)
    if (p.seq === undefined) refused[p.code ?? "?"] = (refused[p.code ?? "?"] ?? 0) + 1;
  const answerMs = acked.map((p) => p.answeredAt! - p.sentAt).sort((a, b) => a - b);
  const run: DeliveryRun = {
    config,
    sent: posts.length,
    acked: acked.length,
    refused,
    postLatencyMs: {
      p50: answerMs[Math.floor(answerMs.length * 0.5)] ?? NaN,
      p99: answerMs[Math.min(answerMs.length - 1, Math.floor(answerMs.length * 0.99))] ?? NaN,
    },
    tally,
    hops: latencyHops(posts, receiver.arrivals, logged),
    queue: queues["edgechat-integrations"],
    deadLetters: queues["edgechat-integrations-dlq"],
    log: logCounts,
    cpu,
    windowCpu: windowCpu!,
    drainMs,
    maxSendLagMs,
    loadAverage,
    problems: [],
  };
  run.problems = problemsOf(run, receiver.unreadable());
  return run;
}

/**
 * Post n is due at start + n / rate (absolute times: no drift); those due in [window.start,
 * window.end) are measured, the earlier ones warm up. Waits for every answer (each bounded).
 */
async function openLoop(
  rate: number,
  start: number,
  window: { start: number; end: number },
  post: (n: number, measured: boolean) => Promise<Post>,
): Promise<{ posts: Post[]; maxSendLagMs: number }> {
  const pending: Promise<Post>[] = [];
  let maxSendLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      for (;;) {
        const due = start + (pending.length * 1000) / rate;
        if (due >= window.end) return resolve();
        if (due > t) break;
        maxSendLagMs = Math.max(maxSendLagMs, t - due);
        pending.push(post(pending.length, due >= window.start));
      }
      setTimeout(tick, Math.max(0, start + (pending.length * 1000) / rate - now()));
    };
    tick();
  });
  return { posts: await Promise.all(pending), maxSendLagMs };
}

/**
 * Waits until `expected` first arrivals are in (duplicates do not count), at most `boundMs`, and
 * gives up sooner when nothing new arrived for 20 s (four times the first retry's 5 s).
 */
async function drain(receiver: DeliveryReceiver, expected: number, boundMs: number) {
  const deadline = now() + boundMs;
  const distinct = new Set<string>();
  let read = 0;
  let since = now();
  for (;;) {
    const arrivals = receiver.arrivals;
    for (; read < arrivals.length; read++, since = now())
      distinct.add(`${arrivals[read]!.path} ${arrivals[read]!.seq}`);
    if (distinct.size >= expected || now() > deadline || now() - since > 20_000) return;
    await sleep(100);
  }
}

function problemsOf(run: DeliveryRun, unreadable: number): string[] {
  const out: string[] = [];
  const t = run.tally;
  if (t.missing)
    out.push(
      `${t.missing} of ${t.expected} deliveries never arrived (waited ${(run.drainMs / 1000).toFixed(0)} s after the last answer)`,
    );
  if (t.duplicates) out.push(`${t.duplicates} deliveries arrived more than once`);
  if (t.unexpected) out.push(`${t.unexpected} deliveries of no acked post`);
  if (unreadable) out.push(`${unreadable} requests at the receiver were not webhook payloads`);
  if (run.acked !== run.sent)
    out.push(`${run.sent - run.acked} posts not acked: ${JSON.stringify(run.refused)}`);
  if (run.log.deliveries !== t.expected)
    out.push(`the delivery logs hold ${run.log.deliveries} deliveries, ${t.expected} expected`);
  const notDelivered = run.log.deliveries - (run.log.byStatus.delivered ?? 0);
  if (notDelivered) out.push(`delivery logs: ${JSON.stringify(run.log.byStatus)}`);
  if (!run.queue && run.config.webhooksPerRoom > 0)
    out.push("no QUEUE line in wrangler's log: queue messages not counted");
  if (run.deadLetters?.messages) out.push(`${run.deadLetters.messages} messages dead-lettered`);
  return out;
}
