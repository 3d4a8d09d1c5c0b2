/**
 * The load generator: the same SDK client (RoomConnection over the `ws` package) and the same
 * procedure for every target. Open loop (fixed aggregate rate, drift-free schedule) or closed
 * loop (each sender posts its next message once the previous one came back).
 */
import { performance } from "node:perf_hooks";
import { WebSocket as WsSocket } from "ws";
import { CommandError, EdgechatApi, RoomConnection, type RoomEvent } from "../src/client/index.ts";
import type { TargetName } from "./servers.ts";

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
};

export type Percentiles = {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  n: number;
};

export type RunResult = {
  target: TargetName;
  scenario: string;
  mode: "open" | "closed";
  durationS: number;
  connectMs: number;
  sent: number;
  sentPerS: number;
  acked: number;
  ackedPerS: number;
  rejects: Record<string, number>;
  rejected: number;
  unmatchedErrors: Record<string, number>;
  expected: number;
  delivered: number;
  lost: number;
  deliveriesPerS: number;
  messagesPerS: number;
  latencyMs: Percentiles;
  ackLatencyMs: Percentiles;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
  sdkOutOfOrderAtConnect: number;
  unexpectedEvents: number;
  maxSendLagMs: number;
  closedLoopTimeouts: number;
  durable?: { acked: number; found: number; missing: number; wrongText: number; error?: string };
  loadgenCpuMs: number;
  timeline: Array<[number, number, number]>;
};

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const round = (n: number) => Math.round(n * 10) / 10;

/** A socket class for the SDK: `ws` without permessage-deflate, for both targets alike. */
class BenchSocket extends WsSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false });
  }
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Message = {
  g: number;
  room: number;
  sender: number;
  measured: boolean;
  text: string;
  sentAt: number;
  ackAt: number;
  seq: number;
  rejected: boolean;
  delivered: number;
  lastAt: number;
  /** Closed loop: resolves when the sender has seen its own event. */
  ownEvent?: () => void;
};

type Client = {
  index: number;
  room: number;
  conn: RoomConnection;
  lastSeq: number;
  seen: Set<number>;
  baselineAnomalies: { duplicates: number; outOfOrder: number };
};

export function percentiles(values: Float64Array | number[]): Percentiles {
  const n = values.length;
  if (n === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN, n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let total = 0;
  for (const v of sorted) total += v;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[n - 1]!, mean: total / n, n };
}

/** A growable Float64 sample buffer. */
class Samples {
  #buf = new Float64Array(1 << 16);
  #n = 0;
  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }
  values(): Float64Array {
    return this.#buf.subarray(0, this.#n);
  }
}

async function inBatches<T>(
  items: T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

export const roomName = (r: number) => `bench-${r}`;

/** Runs one scenario against one target at `baseUrl`. */
export type Probe = { start(): void; end(): void };

export async function runScenario(
  target: TargetName,
  baseUrl: string,
  s: Scenario,
  log: (line: string) => void,
  probe?: Probe,
): Promise<RunResult> {
  const cpu0 = process.cpuUsage();
  const total = s.rooms * s.clients;
  const tokens: string[] = new Array(total).fill("raw-server-takes-any-token");
  let owner: EdgechatApi | undefined;

  // ---- setup: tokens and rooms (edgechat only; the raw server has no auth and no room directory)
  const t0 = performance.now();
  if (target !== "raw") {
    const api = new EdgechatApi(baseUrl);
    owner = api.withToken((await api.signInGuest("bench-owner")).token);
    for (let r = 0; r < s.rooms; r++) await owner.createRoom({ name: roomName(r) });
    const indexes = [...Array(total).keys()];
    await withTimeout(
      inBatches(indexes, 20, async (i) => {
        tokens[i] = (await api.signInGuest(`b${String(i).padStart(2, "0")}`)).token;
      }),
      60_000,
      "guest sign-in",
    );
  }

  // ---- state shared by all handlers
  const messages: Message[] = [];
  const latencies = new Samples();
  const ackLatencies = new Samples();
  let phase: "connect" | "warmup" | "measure" | "drain" | "done" = "connect";
  let measureStart = Infinity;
  let measureEnd = Infinity;
  let deliveredInWindow = 0;
  let ackedInWindow = 0;
  let gaps = 0;
  let unexpectedEvents = 0;
  let duplicateMessages = 0;
  let outstanding = 0; // measured deliveries still expected
  let onSettled: (() => void) | undefined;
  const rejects: Record<string, number> = {};
  const unmatchedErrors: Record<string, number> = {};

  const clients: Client[] = [];
  const onEvent = (c: Client, e: RoomEvent) => {
    const at = now();
    if (e.seq > c.lastSeq + 1 && c.lastSeq >= 0) gaps += e.seq - c.lastSeq - 1;
    c.lastSeq = Math.max(c.lastSeq, e.seq);
    if (e.type !== "message.posted") {
      if (phase === "warmup" || phase === "measure" || phase === "drain") unexpectedEvents += 1;
      return;
    }
    const text = e.data.text;
    const sp1 = text.indexOf(" ");
    const sp2 = text.indexOf(" ", sp1 + 1);
    const g = Number(text.slice(sp1 + 1, sp2));
    const m = messages[g];
    if (!m) return void (unexpectedEvents += 1);
    if (c.seen.has(g)) return void (duplicateMessages += 1); // the same message under another seq
    c.seen.add(g);
    m.delivered += 1;
    m.lastAt = at;
    if (m.sender === c.index) m.ownEvent?.();
    if (!m.measured) return;
    latencies.push(at - Number(text.slice(0, sp1)));
    if (at >= measureStart && at <= measureEnd) deliveredInWindow += 1;
    if (!m.rejected) {
      outstanding -= 1;
      if (outstanding <= 0 && phase === "drain") onSettled?.();
    }
  };

  // ---- connect every client, a batch at a time, and wait for each welcome
  const connectStart = performance.now();
  for (let i = 0; i < total; i++) {
    const room = Math.floor(i / s.clients);
    const conn = new RoomConnection({
      baseUrl,
      room: roomName(room),
      token: tokens[i]!,
      WebSocket: BenchSocket as unknown as typeof WebSocket,
      heartbeatMs: 60_000,
    });
    const c: Client = {
      index: i,
      room,
      conn,
      lastSeq: -1,
      seen: new Set(),
      baselineAnomalies: { duplicates: 0, outOfOrder: 0 },
    };
    conn.on("welcome", (w) => (c.lastSeq = Math.max(c.lastSeq, w.lastSeq)));
    conn.on("event", (e) => onEvent(c, e));
    conn.on("fatal", (f) => log(`  client ${i}: fatal ${f.code}: ${f.message}`));
    // Error frames that name no pending command (the SDK cannot match them to a post).
    conn.on("error", (f) => {
      if (phase === "done" || phase === "connect") return;
      unmatchedErrors[f.code] = (unmatchedErrors[f.code] ?? 0) + 1;
    });
    clients.push(c);
  }
  try {
    await withTimeout(
      inBatches(clients, 25, (c) => {
        const welcomed = new Promise<void>((resolve) => {
          const off = c.conn.on("welcome", () => (off(), resolve()));
        });
        c.conn.connect();
        return welcomed;
      }),
      60_000,
      "connect",
    );
    const connectMs = performance.now() - connectStart;
    // Let the join/presence broadcasts of the last connections settle, then take the SDK's baseline.
    await sleep(1000);
    let sdkOutOfOrderAtConnect = 0;
    for (const c of clients) {
      c.baselineAnomalies = { ...c.conn.anomalies };
      sdkOutOfOrderAtConnect += c.conn.anomalies.outOfOrder;
    }
    log(
      `  ${total} clients connected in ${connectMs.toFixed(0)} ms (setup ${(connectStart - t0).toFixed(0)} ms)`,
    );

    // ---- the senders: the first `senders` clients of each room, interleaved across rooms
    const senders: Client[] = [];
    for (let k = 0; k < s.senders; k++)
      for (let r = 0; r < s.rooms; r++) senders.push(clients[r * s.clients + k]!);
    const pad = "x".repeat(Math.max(0, s.size));
    const send = (c: Client, measured: boolean): Message => {
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
        ackAt: 0,
        seq: 0,
        rejected: false,
        delivered: 0,
        lastAt: 0,
      };
      messages.push(m);
      if (measured) outstanding += s.clients;
      c.conn.post(text).then(
        (seq) => {
          m.seq = seq;
          m.ackAt = now();
          if (!m.measured) return;
          ackLatencies.push(m.ackAt - m.sentAt);
          if (m.ackAt >= measureStart && m.ackAt <= measureEnd) ackedInWindow += 1;
        },
        (error: unknown) => {
          if (phase === "done") return;
          const code = error instanceof CommandError ? error.code : "error";
          m.rejected = true;
          if (m.measured) {
            rejects[code] = (rejects[code] ?? 0) + 1;
            outstanding -= s.clients - m.delivered;
            if (outstanding <= 0 && phase === "drain") onSettled?.();
          }
          m.ownEvent?.();
        },
      );
      return m;
    };

    const start = now();
    measureStart = start + s.warmup * 1000;
    measureEnd = measureStart + s.duration * 1000;
    phase = "warmup";
    const phaseTimer = setTimeout(() => {
      phase = "measure";
      probe?.start();
    }, s.warmup * 1000);
    let maxSendLagMs = 0;
    let closedLoopTimeouts = 0;

    if (s.mode === "open") {
      // Message n (over all senders) is due at start + n / rate: absolute times, so no drift.
      await new Promise<void>((resolve) => {
        let n = 0;
        const tick = () => {
          const t = now();
          for (;;) {
            const due = start + (n * 1000) / s.rate;
            if (due >= measureEnd) return resolve();
            if (due > t) break;
            maxSendLagMs = Math.max(maxSendLagMs, t - due);
            send(senders[n % senders.length]!, due >= measureStart);
            n += 1;
          }
          setTimeout(tick, Math.max(0, start + (n * 1000) / s.rate - now()));
        };
        tick();
      });
    } else {
      const minGap = s.pace > 0 ? 1000 / s.pace : 0;
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
              m.ownEvent = resolve;
            });
            const timer = sleep(10_000).then(() => "timeout" as const);
            if ((await Promise.race([came, timer])) === "timeout") closedLoopTimeouts += 1;
          }
        }),
      );
    }
    clearTimeout(phaseTimer);
    probe?.end();

    // ---- drain: until every measured delivery arrived (or was refused), bounded
    phase = "drain";
    if (outstanding > 0) {
      await Promise.race([new Promise<void>((r) => (onSettled = r)), sleep(s.drain * 1000)]);
    }
    phase = "done";

    const measured = messages.filter((m) => m.measured);
    const accepted = measured.filter((m) => !m.rejected);
    const expected = accepted.length * s.clients;
    const delivered = accepted.reduce((sum, m) => sum + m.delivered, 0);
    let duplicates = duplicateMessages;
    let outOfOrder = 0;
    for (const c of clients) {
      duplicates += c.conn.anomalies.duplicates - c.baselineAnomalies.duplicates;
      outOfOrder += c.conn.anomalies.outOfOrder - c.baselineAnomalies.outOfOrder;
    }

    let durable: RunResult["durable"];
    if (owner) durable = await verifyDurable(owner, s.rooms, messages);

    const cpu = process.cpuUsage(cpu0);
    return {
      target,
      scenario: s.name,
      mode: s.mode,
      durationS: s.duration,
      connectMs: Math.round(connectMs),
      sent: measured.length,
      sentPerS: measured.length / s.duration,
      acked: measured.filter((m) => m.ackAt > 0).length,
      ackedPerS: ackedInWindow / s.duration,
      rejects,
      rejected: measured.length - accepted.length + sum(unmatchedErrors),
      unmatchedErrors,
      expected,
      delivered,
      lost: expected - delivered,
      deliveriesPerS: deliveredInWindow / s.duration,
      messagesPerS: deliveredInWindow / s.duration / s.clients,
      latencyMs: percentiles(latencies.values()),
      ackLatencyMs: percentiles(ackLatencies.values()),
      duplicates,
      outOfOrder,
      gaps,
      sdkOutOfOrderAtConnect,
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
    for (const c of clients) c.conn.close();
    await sleep(300);
  }
}

/** Pages the rooms' logs over HTTP and checks that every acked message is there, with its text. */
async function verifyDurable(
  api: EdgechatApi,
  rooms: number,
  messages: Message[],
): Promise<NonNullable<RunResult["durable"]>> {
  const acked = messages.filter((m) => m.seq > 0);
  let found = 0;
  let wrongText = 0;
  try {
    for (let r = 0; r < rooms; r++) {
      const bySeq = new Map<number, string>();
      let after = 0;
      for (;;) {
        const page = await withTimeout(api.events(roomName(r), after, 1000), 30_000, "events page");
        for (const e of page.events) if (e.type === "message.posted") bySeq.set(e.seq, e.data.text);
        if (page.events.length === 0 || after >= page.lastSeq) break;
        after = page.events.at(-1)!.seq;
        if (after >= page.lastSeq) break;
      }
      for (const m of acked) {
        if (m.room !== r) continue;
        const text = bySeq.get(m.seq);
        if (text === undefined) continue;
        if (text === m.text) found += 1;
        else wrongText += 1;
      }
    }
  } catch (error) {
    return {
      acked: acked.length,
      found,
      missing: acked.length - found - wrongText,
      wrongText,
      error: String(error),
    };
  }
  return { acked: acked.length, found, missing: acked.length - found - wrongText, wrongText };
}
