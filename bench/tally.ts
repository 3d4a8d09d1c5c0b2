/**
 * The bookkeeping of one run: every post (its text, outcome, deliveries), what the clients
 * report, and the figures of the result. The load generator (load.ts) drives it; nothing here
 * talks to a server.
 */
import type { BenchClient, ClientHooks, PostHandlers } from "./clients.ts";
import type { Scenario } from "./load.ts";
import { bump, now, percentiles, Samples, sleep, sum, type Percentiles } from "./util.ts";

export type Phase = "connect" | "warmup" | "measure" | "drain" | "done";

export type Message = {
  g: number;
  room: number;
  sender: number;
  measured: boolean;
  text: string;
  sentAt: number;
  /** When its frame was last written to the socket: the send the room answered. */
  writtenAt: number;
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

/** What the tally measured; load.ts adds the run's context (target, timings, the log check). */
export type Counts = {
  sent: number;
  acked: number;
  ackedInWindow: number;
  rejects: Record<string, number>;
  rejected: number;
  refusedOnce: number;
  unanswered: number;
  unmatchedErrors: Record<string, number>;
  closes: Record<string, number>;
  expected: number;
  delivered: number;
  lost: number;
  deliveredInWindow: number;
  backlogMs: number;
  framesInWindow: number;
  /** Bytes of those messages; and of the plain `event` frames among them (raw clients). */
  bytesInWindow: number;
  eventFramesInWindow: { frames: number; bytes: number };
  latencyMs: Percentiles;
  latencyRetriedMs: Percentiles;
  latencyFromSendMs: Percentiles;
  ackLatencyMs: Percentiles;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
  unexpectedEvents: number;
  timeline: Array<[number, number, number]>;
};

const round = (n: number) => Math.round(n * 10) / 10;

export class Tally {
  readonly messages: Message[] = [];
  phase: Phase = "connect";
  measureStart = Infinity;
  measureEnd = Infinity;
  readonly #s: Scenario;
  readonly #pad: string;
  readonly #latencies = new Samples();
  readonly #retriedLatencies = new Samples();
  readonly #fromSendLatencies = new Samples();
  readonly #ackLatencies = new Samples();
  readonly #unmatchedErrors: Record<string, number> = {};
  readonly #closes: Record<string, number> = {};
  readonly #seen: Set<number>[];
  readonly #prevSeq: number[];
  #baseline: Array<{ duplicates: number; outOfOrder: number }> = [];
  #deliveredInWindow = 0;
  #ackedInWindow = 0;
  #framesInWindow = 0;
  #bytesInWindow = 0;
  readonly #eventFrames = { frames: 0, bytes: 0 };
  #gaps = 0;
  #unexpectedEvents = 0;
  #duplicateMessages = 0;
  /** Deliveries of measured posts still expected, and measured posts not answered yet. */
  #outstanding = 0;
  #unanswered = 0;
  #onSettled: (() => void) | undefined;

  constructor(s: Scenario, total: number) {
    this.#s = s;
    this.#pad = "x".repeat(Math.max(0, s.size));
    this.#seen = Array.from({ length: total }, () => new Set());
    this.#prevSeq = new Array<number>(total).fill(-1);
  }

  /** The hooks every client reports to. */
  hooks(log: (line: string) => void): ClientHooks {
    return {
      event: (c, seq, text) => this.#event(c, seq, text),
      unmatchedError: (code) => void (this.#running() && bump(this.#unmatchedErrors, code)),
      closed: (code) =>
        void (
          this.phase !== "connect" &&
          this.phase !== "done" &&
          bump(this.#closes, String(code))
        ),
      frame: (bytes, event) => this.#frame(bytes, event === true),
      log,
    };
  }

  #frame(bytes: number, event: boolean): void {
    if (this.phase !== "measure") return;
    this.#framesInWindow += 1;
    this.#bytesInWindow += bytes;
    if (!event) return;
    this.#eventFrames.frames += 1;
    this.#eventFrames.bytes += bytes;
  }

  /** After connecting: seqs and the clients' own anomaly counts start from here. */
  baseline(clients: readonly BenchClient[]): void {
    for (const c of clients) this.#prevSeq[c.index] = c.lastSeq;
    this.#baseline = clients.map((c) => ({ ...c.anomalies }));
  }

  /** Posts a text that starts with its send time and number, padded to the scenario's size. */
  post(c: BenchClient, measured: boolean): Message {
    const g = this.messages.length;
    const sentAt = now();
    const head = `${sentAt.toFixed(3)} ${g} `;
    const text = head.length >= this.#s.size ? head + "x" : head + this.#pad.slice(head.length);
    const m: Message = {
      g,
      room: c.room,
      sender: c.index,
      measured,
      text,
      sentAt,
      writtenAt: sentAt,
      outcome: "pending",
      ackAt: 0,
      seq: 0,
      overloaded: 0,
      delivered: 0,
      lastAt: 0,
    };
    this.messages.push(m);
    if (measured) {
      this.#outstanding += this.#s.clients;
      this.#unanswered += 1;
    }
    c.post(text, this.#answers(m));
    return m;
  }

  /** Until every measured post is answered and delivered (or refused), at most `ms`. */
  async drain(ms: number): Promise<void> {
    this.phase = "drain";
    if (this.#outstanding > 0 || this.#unanswered > 0)
      await Promise.race([new Promise<void>((r) => (this.#onSettled = r)), sleep(ms)]);
    this.phase = "done";
  }

  counts(clients: readonly BenchClient[]): Counts {
    const measured = this.messages.filter((m) => m.measured);
    const acked = measured.filter((m) => m.outcome === "acked");
    const rejects: Record<string, number> = {};
    for (const m of measured) if (m.outcome === "refused") bump(rejects, m.code ?? "error");
    const expected = acked.length * this.#s.clients;
    const delivered = acked.reduce((n, m) => n + m.delivered, 0);
    const lastDelivery = acked.reduce((latest, m) => Math.max(latest, m.lastAt), this.measureEnd);
    let duplicates = this.#duplicateMessages;
    let outOfOrder = 0;
    clients.forEach((c, i) => {
      duplicates += c.anomalies.duplicates - (this.#baseline[i]?.duplicates ?? 0);
      outOfOrder += c.anomalies.outOfOrder - (this.#baseline[i]?.outOfOrder ?? 0);
    });
    return {
      sent: measured.length,
      acked: acked.length,
      ackedInWindow: this.#ackedInWindow,
      rejects,
      rejected: sum(rejects),
      refusedOnce: measured.filter((m) => m.overloaded > 0).length,
      unanswered: measured.filter((m) => m.outcome === "pending").length,
      unmatchedErrors: this.#unmatchedErrors,
      closes: this.#closes,
      expected,
      delivered,
      lost: expected - delivered,
      deliveredInWindow: this.#deliveredInWindow,
      backlogMs: lastDelivery - this.measureEnd,
      framesInWindow: this.#framesInWindow,
      bytesInWindow: this.#bytesInWindow,
      eventFramesInWindow: { ...this.#eventFrames },
      latencyMs: percentiles(this.#latencies.values()),
      latencyRetriedMs: percentiles(this.#retriedLatencies.values()),
      latencyFromSendMs: percentiles(this.#fromSendLatencies.values()),
      ackLatencyMs: percentiles(this.#ackLatencies.values()),
      duplicates,
      outOfOrder,
      gaps: this.#gaps,
      unexpectedEvents: this.#unexpectedEvents,
      // [sent at (ms after the window opened), ack latency, slowest delivery latency] per post
      timeline: measured.map((m) => [
        round(m.sentAt - this.measureStart),
        m.ackAt ? round(m.ackAt - m.sentAt) : -1,
        round(m.lastAt - m.sentAt),
      ]),
    };
  }

  #running(): boolean {
    return this.phase === "warmup" || this.phase === "measure" || this.phase === "drain";
  }

  #checkSettled(): void {
    if (this.#outstanding <= 0 && this.#unanswered <= 0 && this.phase === "drain")
      this.#onSettled?.();
  }

  #event(c: BenchClient, seq: number, text: string | undefined): void {
    const at = now();
    const prev = this.#prevSeq[c.index]!;
    if (prev >= 0 && seq > prev + 1) this.#gaps += seq - prev - 1;
    this.#prevSeq[c.index] = Math.max(prev, seq);
    if (text === undefined) {
      if (this.#running()) this.#unexpectedEvents += 1;
      return;
    }
    const sp1 = text.indexOf(" ");
    const g = Number(text.slice(sp1 + 1, text.indexOf(" ", sp1 + 1)));
    const m = this.messages[g];
    if (!m) return void (this.#unexpectedEvents += 1);
    const seen = this.#seen[c.index]!;
    // The same post under another seq.
    if (seen.has(g)) return void (this.#duplicateMessages += 1);
    seen.add(g);
    m.delivered += 1;
    m.lastAt = at;
    if (m.sender === c.index) m.cameBack?.();
    if (!m.measured) return;
    const latency = at - Number(text.slice(0, sp1));
    (m.overloaded > 0 ? this.#retriedLatencies : this.#latencies).push(latency);
    this.#fromSendLatencies.push(at - m.writtenAt);
    if (at >= this.measureStart && at <= this.measureEnd) this.#deliveredInWindow += 1;
    this.#outstanding -= 1;
    this.#checkSettled();
  }

  #answers(m: Message): PostHandlers {
    return {
      acked: (seq) => {
        // Past the drain a post stays unanswered, so the log check sees a settled set of outcomes.
        if (this.phase === "done") return;
        m.outcome = "acked";
        m.seq = seq;
        m.ackAt = now();
        if (!m.measured) return;
        this.#unanswered -= 1;
        this.#ackLatencies.push(m.ackAt - m.sentAt);
        if (m.ackAt >= this.measureStart && m.ackAt <= this.measureEnd) this.#ackedInWindow += 1;
        this.#checkSettled();
      },
      refused: (code) => {
        if (this.phase === "done") return;
        m.outcome = "refused";
        m.code = code;
        if (code === "overloaded") m.overloaded += 1;
        m.cameBack?.();
        if (!m.measured) return;
        this.#unanswered -= 1;
        this.#outstanding -= this.#s.clients - m.delivered;
        this.#checkSettled();
      },
      overloaded: () => void (m.overloaded += 1),
      written: () => void (m.writtenAt = now()),
    };
  }
}
