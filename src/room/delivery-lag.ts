/**
 * How late the room's events reach its clients, from what they say they received (`received`
 * frames, sent by batch clients). The room cannot see its sockets' send buffers (the runtime
 * reports none), so it measures the lag where it shows: when a client reports seq N at time t,
 * that client got N about t − (when N left the room) after it left.
 *
 * The room's lag is the median of its clients' recent reports: one slow client does not make a
 * room busy (it is cut off as a slow consumer instead), half the room falling behind does.
 * Memory only, and pure: tested without a runtime.
 */

/** A report older than this says nothing about now. */
const FRESH_MS = 2_000;
/** How long the times of sent turns are kept: a report further behind counts as this late. */
const HISTORY_MS = 30_000;
/** The median is recomputed at most this often: a busy room asks per command. */
const RECOMPUTE_MS = 50;

type Sample = { lagMs: number; at: number; seq: number };

export class DeliveryLag {
  /** The last seq of each turn sent, and when; oldest first. */
  #turns: { seq: number; at: number }[] = [];
  readonly #samples = new Map<string, Sample>();
  #median = { lagMs: 0, at: -Infinity };
  readonly #arrived: ((lagMs: number) => void) | undefined;

  /** `arrived` hears each new report's lag (the fan-out latency metric). */
  constructor(arrived?: (lagMs: number) => void) {
    this.#arrived = arrived;
  }

  /** Events up to `lastSeq` left the room at `now`. */
  sent(lastSeq: number, now: number): void {
    const last = this.#turns.at(-1);
    if (last && last.seq >= lastSeq) return;
    this.#turns.push({ seq: lastSeq, at: now });
    if (this.#turns[0]!.at < now - 2 * HISTORY_MS)
      this.#turns = this.#turns.filter((turn) => turn.at >= now - HISTORY_MS);
  }

  /** Client `key` said at `now` that it has received everything up to `seq`. */
  reported(key: string, seq: number, now: number): void {
    const sentAt = this.#sentAt(seq);
    if (sentAt === undefined) return;
    const lagMs = Math.max(0, now - sentAt);
    if (seq > (this.#samples.get(key)?.seq ?? 0)) this.#arrived?.(lagMs);
    this.#samples.set(key, { lagMs, at: now, seq });
  }

  forget(key: string): void {
    this.#samples.delete(key);
  }

  /** The median lag of the clients that reported in the last FRESH_MS; 0 when none did. */
  lagMs(now: number): number {
    if (now - this.#median.at < RECOMPUTE_MS) return this.#median.lagMs;
    const lags: number[] = [];
    for (const [key, sample] of this.#samples) {
      if (sample.at < now - FRESH_MS) this.#samples.delete(key);
      else lags.push(sample.lagMs);
    }
    lags.sort((a, b) => a - b);
    this.#median = { lagMs: lags.length === 0 ? 0 : lags[Math.floor(lags.length / 2)]!, at: now };
    return this.#median.lagMs;
  }

  /** When the turn holding `seq` was sent: the first turn whose last seq reaches it. */
  #sentAt(seq: number): number | undefined {
    const turns = this.#turns;
    if (turns.length === 0 || seq > turns.at(-1)!.seq) return undefined;
    let low = 0;
    let high = turns.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (turns[middle]!.seq >= seq) high = middle;
      else low = middle + 1;
    }
    return turns[low]!.at;
  }
}
