/**
 * The load generator: one procedure for every target and both kinds of client (clients.ts).
 * Open loop (a fixed aggregate rate on a drift-free schedule) or closed loop (each sender posts
 * its next message once the previous one came back). Every message's text starts with its send
 * time and number, from which every receiver measures latency.
 */
import { createClient, type BenchClient, type ClientKind, type RpcRoute } from "./clients.ts";
import { createRoom, readLog, signInGuest } from "./http.ts";
import type { TargetName } from "./servers.ts";
import { Tally, type Message } from "./tally.ts";
import { inBatches, now, sleep, withTimeout, type Percentiles } from "./util.ts";

export type Scenario = {
  name: string;
  mode: "open" | "closed";
  rooms: number;
  /** Clients per room (every client receives; the first `senders` of each room also send). */
  clients: number;
  /** Senders per room. */
  senders: number;
  /** Open loop: aggregate messages per second over all rooms. */
  rate: number;
  /** Message text length in characters (the embedded timestamp, then padding). */
  size: number;
  duration: number;
  warmup: number;
  drain: number;
  /** Closed loop: a sender's own ceiling in messages/s (the server's 20/s per connection), 0 for none. */
  pace: number;
  /** Sent as `shards` when the rooms are created; 0 sends no such field. */
  shards: number;
  /**
   * Closed loop: measured posts per sender. When set, each sender stops after that many and the
   * window closes when the last one came back, so every run commits the same posts (`duration`
   * is then unused); unset, the window is `duration` seconds.
   */
  posts?: number;
};

export type RunContext = {
  target: TargetName;
  baseUrl: string;
  client: ClientKind;
  log: (line: string) => void;
  /** `rpc` clients: where they watch (the worker's /rpc when unset). */
  rpc?: RpcRoute;
  /** Called when the measured window opens and closes (server CPU sampling, strace). */
  probe?: { start(): void; end(): void };
  /** edgechat: called once the rooms exist, before anyone connects, with the owner's token. */
  prepare?: (owner: string, rooms: readonly string[]) => Promise<void>;
};

export type DurableCheck = {
  acked: number;
  found: number;
  missing: number;
  wrongText: number;
  /** Refused messages that are in the log all the same: a refusal must mean "not stored". */
  refusedButStored: number;
  /** Texts stored under more than one seq. */
  storedTwice: number;
  error?: string;
};

export type RunResult = {
  target: TargetName;
  client: ClientKind;
  scenario: string;
  durationS: number;
  connectMs: number;
  /** Measured messages sent (each once, however often the SDK resent it). */
  sent: number;
  sentPerS: number;
  /** Measured messages acked in the end. */
  acked: number;
  ackedPerS: number;
  /** Measured messages refused in the end, by code. */
  rejects: Record<string, number>;
  rejected: number;
  /** Measured messages refused as `overloaded` at least once (sdk: or held back by the SDK after one). */
  refusedOnce: number;
  /** Measured messages with no answer at all by the end of the drain. */
  unanswered: number;
  unmatchedErrors: Record<string, number>;
  /** Close codes the server sent after everyone connected. */
  closes: Record<string, number>;
  expected: number;
  delivered: number;
  /** Deliveries of acked messages that had not arrived when the (bounded) drain ended. */
  lost: number;
  deliveriesPerS: number;
  messagesPerS: number;
  /** From the end of the window to the last delivery of an acked post: the backlog left. */
  backlogMs: number;
  /** WebSocket messages the clients received in the window (a batch frame counts once). */
  framesInWindow: number;
  /** Their bytes (payload, without WebSocket headers); and those of the plain `event` frames. */
  bytesInWindow: number;
  eventFramesInWindow: { frames: number; bytes: number };
  /** Fan-out latency of messages accepted at the first try. */
  latencyMs: Percentiles;
  /** Fan-out latency (from the post) of messages pushed back (refused or held), then accepted. */
  latencyRetriedMs: Percentiles;
  /**
   * Fan-out latency of every accepted message from the send the room accepted (its last write to
   * the socket): the room's part, without what the SDK held back in the client.
   */
  latencyFromSendMs: Percentiles;
  ackLatencyMs: Percentiles;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
  unexpectedEvents: number;
  maxSendLagMs: number;
  closedLoopTimeouts: number;
  durable?: DurableCheck;
  loadgenCpuMs: number;
  timeline: Array<[number, number, number]>;
};

export const roomName = (r: number) => `bench-${r}`;
const TOKEN_FOR_RAW = "raw-server-takes-any-token";

/** Every client's token and the rooms, over HTTP (edgechat only: the raw server has neither). */
async function setup(ctx: RunContext, s: Scenario, total: number) {
  if (ctx.target === "raw") return { tokens: new Array<string>(total).fill(TOKEN_FOR_RAW) };
  const owner = await signInGuest(ctx.baseUrl, "bench-owner");
  for (let r = 0; r < s.rooms; r++)
    await createRoom(ctx.baseUrl, owner, roomName(r), s.shards || undefined);
  await ctx.prepare?.(
    owner,
    [...Array(s.rooms).keys()].map((r) => roomName(r)),
  );
  const tokens = new Array<string>(total);
  await withTimeout(
    inBatches([...Array(total).keys()], 20, async (i) => {
      tokens[i] = await signInGuest(ctx.baseUrl, `b${String(i).padStart(4, "0")}`);
    }),
    120_000,
    "guest sign-in",
  );
  return { tokens, owner };
}

/** Opens every socket, a paced group at a time, each waiting for its welcome (bounded). */
async function connectAll(clients: BenchClient[]): Promise<void> {
  const size = clients.length > 200 ? 50 : 25;
  const pauseMs = clients.length > 200 ? 200 : 0;
  await withTimeout(
    inBatches(clients, size, (c) => c.connect(), pauseMs),
    60_000 + 60 * clients.length,
    "connect",
  );
}

/** Waits (bounded) until every client of each room has seen the room's latest seq (the joins). */
async function settle(clients: BenchClient[], rooms: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const head = new Array<number>(rooms).fill(0);
    for (const c of clients) head[c.room] = Math.max(head[c.room]!, c.lastSeq);
    if (clients.every((c) => c.lastSeq === head[c.room]) || Date.now() > deadline) break;
    await sleep(100);
  }
  await sleep(500);
}

export async function runScenario(ctx: RunContext, s: Scenario): Promise<RunResult> {
  if (s.senders > s.clients)
    throw new Error(`${s.name}: ${s.senders} senders but ${s.clients} clients a room`);
  const cpu0 = process.cpuUsage();
  const total = s.rooms * s.clients;
  const t0 = performance.now();
  const { tokens, owner } = await setup(ctx, s, total);
  const tally = new Tally(s, total);
  const hooks = tally.hooks(ctx.log);
  const clients: BenchClient[] = [...Array(total).keys()].map((i) =>
    createClient(ctx.client, {
      index: i,
      room: Math.floor(i / s.clients),
      sender: i % s.clients < s.senders,
      roomName: roomName(Math.floor(i / s.clients)),
      baseUrl: ctx.baseUrl,
      token: tokens[i]!,
      hooks,
      rpc: ctx.rpc,
    }),
  );
  try {
    const connectStart = performance.now();
    await connectAll(clients);
    const connectMs = performance.now() - connectStart;
    await settle(clients, s.rooms);
    tally.baseline(clients);
    ctx.log(
      `  ${total} ${ctx.client} clients connected in ${connectMs.toFixed(0)} ms (setup ${(connectStart - t0).toFixed(0)} ms)`,
    );
    const { maxSendLagMs, closedLoopTimeouts } = await load(ctx, s, tally, clients);
    const durationS = (tally.measureEnd - tally.measureStart) / 1000;
    await tally.drain(s.drain * 1000);
    const counts = tally.counts(clients);
    const durable = owner
      ? await verifyDurable(ctx.baseUrl, owner, s.rooms, tally.messages)
      : undefined;
    const cpu = process.cpuUsage(cpu0);
    const { ackedInWindow, deliveredInWindow, ...rest } = counts;
    return {
      ...rest,
      target: ctx.target,
      client: ctx.client,
      scenario: s.name,
      durationS,
      connectMs: Math.round(connectMs),
      sentPerS: counts.sent / durationS,
      ackedPerS: ackedInWindow / durationS,
      deliveriesPerS: deliveredInWindow / durationS,
      messagesPerS: deliveredInWindow / durationS / s.clients,
      maxSendLagMs,
      closedLoopTimeouts,
      durable,
      loadgenCpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    tally.phase = "done";
    for (const c of clients) c.close();
    await sleep(300);
  }
}

/**
 * Warm-up, then the measured window (the probe starts and ends with it), sending from the first
 * `senders` clients of each room, interleaved across rooms. A closed loop with `posts` has no end
 * set in advance: the window ends when the last sender's last post came back.
 */
async function load(ctx: RunContext, s: Scenario, tally: Tally, clients: BenchClient[]) {
  const senders: BenchClient[] = [];
  for (let k = 0; k < s.senders; k++)
    for (let r = 0; r < s.rooms; r++) senders.push(clients[r * s.clients + k]!);
  const send: Send = (c, measured) => tally.post(c, measured);
  const start = now();
  tally.measureStart = start + s.warmup * 1000;
  const counted = s.mode === "closed" && (s.posts ?? 0) > 0;
  tally.measureEnd = counted ? Infinity : tally.measureStart + s.duration * 1000;
  tally.phase = "warmup";
  const phaseTimer = setTimeout(() => {
    tally.phase = "measure";
    ctx.probe?.start();
  }, s.warmup * 1000);
  const result = await (s.mode === "open"
    ? openLoop(s, senders, start, tally.measureStart, tally.measureEnd, send)
    : closedLoop(s, senders, tally.measureStart, tally.measureEnd, send));
  clearTimeout(phaseTimer);
  if (counted) tally.measureEnd = now();
  ctx.probe?.end();
  return result;
}

type Send = (c: BenchClient, measured: boolean) => Message;

/** Message n (over all senders, round-robin) is due at start + n / rate: absolute times, no drift. */
function openLoop(
  s: Scenario,
  senders: BenchClient[],
  start: number,
  measureStart: number,
  measureEnd: number,
  send: Send,
): Promise<{ maxSendLagMs: number; closedLoopTimeouts: number }> {
  let maxSendLagMs = 0;
  return new Promise((resolve) => {
    let n = 0;
    const tick = () => {
      const t = now();
      for (;;) {
        const due = start + (n * 1000) / s.rate;
        if (due >= measureEnd) return resolve({ maxSendLagMs, closedLoopTimeouts: 0 });
        if (due > t) break;
        maxSendLagMs = Math.max(maxSendLagMs, t - due);
        send(senders[n % senders.length]!, due >= measureStart);
        n += 1;
      }
      setTimeout(tick, Math.max(0, start + (n * 1000) / s.rate - now()));
    };
    tick();
  });
}

/**
 * Each sender posts its next message once its own event (or a refusal) came back, paced: until
 * the window's end, or (`posts`) until it has sent that many measured posts.
 */
async function closedLoop(
  s: Scenario,
  senders: BenchClient[],
  measureStart: number,
  measureEnd: number,
  send: Send,
): Promise<{ maxSendLagMs: number; closedLoopTimeouts: number }> {
  const minGap = s.pace > 0 ? 1000 / s.pace : 0;
  const posts = s.posts ?? 0;
  let closedLoopTimeouts = 0;
  await Promise.all(
    senders.map(async (c, k) => {
      await sleep((k * 50) / senders.length); // spread the first sends over 50 ms
      let last = 0;
      let measured = 0;
      const more = () => (posts > 0 ? measured < posts : now() < measureEnd);
      while (more()) {
        const wait = last + minGap - now();
        if (wait > 0) await sleep(wait);
        if (!more()) break;
        last = now();
        const inWindow = last >= measureStart;
        if (inWindow) measured += 1;
        const came = new Promise<void>((resolve) => {
          const m = send(c, inWindow);
          m.cameBack = resolve;
        });
        const timer = sleep(10_000).then(() => "timeout" as const);
        if ((await Promise.race([came, timer])) === "timeout") closedLoopTimeouts += 1;
      }
    }),
  );
  return { maxSendLagMs: 0, closedLoopTimeouts };
}

/**
 * Pages the rooms' logs over HTTP: every acked message must be there under its acked seq with
 * its text, no refused message may be, and no text may be stored twice.
 */
async function verifyDurable(
  baseUrl: string,
  token: string,
  rooms: number,
  messages: Message[],
): Promise<DurableCheck> {
  const check: DurableCheck = {
    acked: messages.filter((m) => m.outcome === "acked").length,
    found: 0,
    missing: 0,
    wrongText: 0,
    refusedButStored: 0,
    storedTwice: 0,
  };
  try {
    for (let r = 0; r < rooms; r++) {
      const bySeq = new Map<number, string>();
      const seqsOfText = new Map<string, number>();
      for (const e of await readLog(baseUrl, token, roomName(r))) {
        const text = e.type === "message.posted" ? e.data?.text : undefined;
        if (text === undefined) continue;
        bySeq.set(e.seq, text);
        seqsOfText.set(text, (seqsOfText.get(text) ?? 0) + 1);
      }
      for (const m of messages) {
        if (m.room !== r) continue;
        if ((seqsOfText.get(m.text) ?? 0) > 1) check.storedTwice += 1;
        if (m.outcome === "refused" && seqsOfText.has(m.text)) check.refusedButStored += 1;
        if (m.outcome !== "acked") continue;
        const text = bySeq.get(m.seq);
        if (text === m.text) check.found += 1;
        else if (text === undefined) check.missing += 1;
        else check.wrongText += 1;
      }
    }
  } catch (error) {
    check.error = String(error);
    check.missing = check.acked - check.found - check.wrongText;
  }
  return check;
}
