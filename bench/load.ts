/**
 * The load generator: one procedure for every target and both kinds of client (clients.ts).
 * Open loop (a fixed aggregate rate on a drift-free schedule) or closed loop (each sender posts
 * its next message once the previous one came back). Every message's text starts with its send
 * time and number, from which every receiver measures latency.
 */
import { createClient, type BenchClient, type ClientKind, type PostHandlers } from "./clients.ts";
import { createRoom, readLog, signInGuest } from "./http.ts";
import type { TargetName } from "./servers.ts";
import {
  bump,
  inBatches,
  now,
  percentiles,
  Samples,
  sleep,
  sum,
  withTimeout,
  type Percentiles,
} from "./util.ts";

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
};

export type RunContext = {
  target: TargetName;
  baseUrl: string;
  client: ClientKind;
  log: (line: string) => void;
  /** Called when the measured window opens and closes (server CPU sampling, strace). */
  probe?: { start(): void; end(): void };
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
  /** Measured messages refused as `overloaded` at least once (sdk: then resent). */
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
  /** Fan-out latency of messages accepted at the first try. */
  latencyMs: Percentiles;
  /** Fan-out latency (from the first send) of messages refused as overloaded, then accepted. */
  latencyRetriedMs: Percentiles;
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

type Message = {
  g: number;
  room: number;
  sender: number;
  measured: boolean;
  text: string;
  sentAt: number;
  outcome: "pending" | "acked" | "refused";
  code?: string;
  ackAt: number;
  seq: number;
  overloaded: number;
  delivered: number;
  lastAt: number;
  /** Closed loop: resolves when the sender has seen its own event or a refusal. */
  cameBack?: () => void;
};

const round = (n: number) => Math.round(n * 10) / 10;
export const roomName = (r: number) => `bench-${r}`;
const TOKEN_FOR_RAW = "raw-server-takes-any-token";

/** Every client's token and the rooms, over HTTP (edgechat only: the raw server has neither). */
async function setup(ctx: RunContext, s: Scenario, total: number) {
  if (ctx.target === "raw") return { tokens: new Array<string>(total).fill(TOKEN_FOR_RAW) };
  const owner = await signInGuest(ctx.baseUrl, "bench-owner");
  for (let r = 0; r < s.rooms; r++)
    await createRoom(ctx.baseUrl, owner, roomName(r), s.shards || undefined);
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
  const cpu0 = process.cpuUsage();
  const total = s.rooms * s.clients;
  const t0 = performance.now();
  const { tokens, owner } = await setup(ctx, s, total);

  const messages: Message[] = [];
  const latencies = new Samples();
  const retriedLatencies = new Samples();
  const ackLatencies = new Samples();
  let phase: "connect" | "warmup" | "measure" | "drain" | "done" = "connect";
  let measureStart = Infinity;
  let measureEnd = Infinity;
  let deliveredInWindow = 0;
  let ackedInWindow = 0;
  let framesInWindow = 0;
  let gaps = 0;
  let unexpectedEvents = 0;
  let duplicateMessages = 0;
  let outstanding = 0; // deliveries of measured messages still expected
  let unansweredCount = 0; // measured messages with neither ack nor refusal yet
  let onSettled: (() => void) | undefined;
  const unmatchedErrors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const seen: Set<number>[] = Array.from({ length: total }, () => new Set());
  const prevSeq = new Array<number>(total).fill(-1);
  const running = () => phase === "warmup" || phase === "measure" || phase === "drain";
  const checkSettled = () => {
    if (outstanding <= 0 && unansweredCount <= 0 && phase === "drain") onSettled?.();
  };

  const onEvent = (c: BenchClient, seq: number, text: string | undefined) => {
    const at = now();
    const prev = prevSeq[c.index]!;
    if (prev >= 0 && seq > prev + 1) gaps += seq - prev - 1;
    prevSeq[c.index] = Math.max(prev, seq);
    if (text === undefined) {
      if (running()) unexpectedEvents += 1;
      return;
    }
    const sp1 = text.indexOf(" ");
    const sp2 = text.indexOf(" ", sp1 + 1);
    const g = Number(text.slice(sp1 + 1, sp2));
    const m = messages[g];
    if (!m) return void (unexpectedEvents += 1);
    const mine = seen[c.index]!;
    if (mine.has(g)) return void (duplicateMessages += 1); // the same message under another seq
    mine.add(g);
    m.delivered += 1;
    m.lastAt = at;
    if (m.sender === c.index) m.cameBack?.();
    if (!m.measured) return;
    (m.overloaded > 0 ? retriedLatencies : latencies).push(at - Number(text.slice(0, sp1)));
    if (at >= measureStart && at <= measureEnd) deliveredInWindow += 1;
    outstanding -= 1;
    checkSettled();
  };

  const hooks = {
    event: onEvent,
    unmatchedError: (code: string) => running() && bump(unmatchedErrors, code),
    closed: (code: number) => phase !== "connect" && phase !== "done" && bump(closes, String(code)),
    frame: () => void (phase === "measure" && (framesInWindow += 1)),
    log: ctx.log,
  };
  const clients: BenchClient[] = [...Array(total).keys()].map((i) =>
    createClient(ctx.client, {
      index: i,
      room: Math.floor(i / s.clients),
      roomName: roomName(Math.floor(i / s.clients)),
      baseUrl: ctx.baseUrl,
      token: tokens[i]!,
      hooks,
    }),
  );
  try {
    const connectStart = performance.now();
    await connectAll(clients);
    const connectMs = performance.now() - connectStart;
    await settle(clients, s.rooms);
    for (const c of clients) prevSeq[c.index] = c.lastSeq;
    const baseline = clients.map((c) => ({ ...c.anomalies }));
    ctx.log(
      `  ${total} ${ctx.client} clients connected in ${connectMs.toFixed(0)} ms (setup ${(connectStart - t0).toFixed(0)} ms)`,
    );

    // ---- the senders: the first `senders` clients of each room, interleaved across rooms
    const senders: BenchClient[] = [];
    for (let k = 0; k < s.senders; k++)
      for (let r = 0; r < s.rooms; r++) senders.push(clients[r * s.clients + k]!);
    const pad = "x".repeat(Math.max(0, s.size));
    const send = (c: BenchClient, measured: boolean): Message => {
      const g = messages.length;
      const sentAt = now();
      const head = `${sentAt.toFixed(3)} ${g} `;
      const text = head.length >= s.size ? head + "x" : head + pad.slice(head.length);
      const m: Message = {
        g,
        room: c.room,
        sender: c.index,
        measured,
        text,
        sentAt,
        outcome: "pending",
        ackAt: 0,
        seq: 0,
        overloaded: 0,
        delivered: 0,
        lastAt: 0,
      };
      messages.push(m);
      if (measured) {
        outstanding += s.clients;
        unansweredCount += 1;
      }
      c.post(text, answers(m));
      return m;
    };
    const answers = (m: Message): PostHandlers => ({
      acked: (seq) => {
        m.outcome = "acked";
        m.seq = seq;
        m.ackAt = now();
        if (!m.measured) return;
        unansweredCount -= 1;
        ackLatencies.push(m.ackAt - m.sentAt);
        if (m.ackAt >= measureStart && m.ackAt <= measureEnd) ackedInWindow += 1;
        checkSettled();
      },
      refused: (code) => {
        if (phase === "done") return;
        m.outcome = "refused";
        m.code = code;
        if (code === "overloaded") m.overloaded += 1;
        m.cameBack?.();
        if (!m.measured) return;
        unansweredCount -= 1;
        outstanding -= s.clients - m.delivered;
        checkSettled();
      },
      overloaded: () => void (m.overloaded += 1),
    });

    const start = now();
    measureStart = start + s.warmup * 1000;
    measureEnd = measureStart + s.duration * 1000;
    phase = "warmup";
    const phaseTimer = setTimeout(() => {
      phase = "measure";
      ctx.probe?.start();
    }, s.warmup * 1000);
    const sending =
      s.mode === "open"
        ? openLoop(s, senders, start, measureStart, measureEnd, send)
        : closedLoop(s, senders, measureStart, measureEnd, send);
    const { maxSendLagMs, closedLoopTimeouts } = await sending;
    clearTimeout(phaseTimer);
    ctx.probe?.end();

    // ---- drain: until every measured message is answered and delivered (or refused), bounded
    phase = "drain";
    if (outstanding > 0 || unansweredCount > 0)
      await Promise.race([new Promise<void>((r) => (onSettled = r)), sleep(s.drain * 1000)]);
    phase = "done";

    const measured = messages.filter((m) => m.measured);
    const acked = measured.filter((m) => m.outcome === "acked");
    const rejects: Record<string, number> = {};
    for (const m of measured) if (m.outcome === "refused") bump(rejects, m.code ?? "error");
    const expected = acked.length * s.clients;
    const lastDelivery = acked.reduce((latest, m) => Math.max(latest, m.lastAt), measureEnd);
    const delivered = acked.reduce((n, m) => n + m.delivered, 0);
    let duplicates = duplicateMessages;
    let outOfOrder = 0;
    clients.forEach((c, i) => {
      duplicates += c.anomalies.duplicates - baseline[i]!.duplicates;
      outOfOrder += c.anomalies.outOfOrder - baseline[i]!.outOfOrder;
    });
    const durable = owner ? await verifyDurable(ctx.baseUrl, owner, s.rooms, messages) : undefined;
    const cpu = process.cpuUsage(cpu0);
    return {
      target: ctx.target,
      client: ctx.client,
      scenario: s.name,
      durationS: s.duration,
      connectMs: Math.round(connectMs),
      sent: measured.length,
      sentPerS: measured.length / s.duration,
      acked: acked.length,
      ackedPerS: ackedInWindow / s.duration,
      rejects,
      rejected: sum(rejects),
      refusedOnce: measured.filter((m) => m.overloaded > 0).length,
      unanswered: measured.filter((m) => m.outcome === "pending").length,
      unmatchedErrors,
      closes,
      expected,
      delivered,
      lost: expected - delivered,
      deliveriesPerS: deliveredInWindow / s.duration,
      messagesPerS: deliveredInWindow / s.duration / s.clients,
      backlogMs: lastDelivery - measureEnd,
      framesInWindow,
      latencyMs: percentiles(latencies.values()),
      latencyRetriedMs: percentiles(retriedLatencies.values()),
      ackLatencyMs: percentiles(ackLatencies.values()),
      duplicates,
      outOfOrder,
      gaps,
      unexpectedEvents,
      maxSendLagMs,
      closedLoopTimeouts,
      durable,
      loadgenCpuMs: (cpu.user + cpu.system) / 1000,
      // [sent at (ms after the window opened), ack latency, slowest delivery latency] per message
      timeline: measured.map((m) => [
        round(m.sentAt - measureStart),
        m.ackAt ? round(m.ackAt - m.sentAt) : -1,
        round(m.lastAt - m.sentAt),
      ]),
    };
  } finally {
    phase = "done";
    for (const c of clients) c.close();
    await sleep(300);
  }
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

/** Each sender posts its next message once its own event (or a refusal) came back, paced. */
async function closedLoop(
  s: Scenario,
  senders: BenchClient[],
  measureStart: number,
  measureEnd: number,
  send: Send,
): Promise<{ maxSendLagMs: number; closedLoopTimeouts: number }> {
  const minGap = s.pace > 0 ? 1000 / s.pace : 0;
  let closedLoopTimeouts = 0;
  await Promise.all(
    senders.map(async (c, k) => {
      await sleep((k * 50) / senders.length); // spread the first sends over 50 ms
      let last = 0;
      while (now() < measureEnd) {
        const wait = last + minGap - now();
        if (wait > 0) await sleep(wait);
        if (now() >= measureEnd) break;
        last = now();
        const came = new Promise<void>((resolve) => {
          const m = send(c, last >= measureStart);
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
