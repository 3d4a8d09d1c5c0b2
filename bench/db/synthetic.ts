/**
 * Synthetic but valid room events (src/protocol/events.ts shapes) and chat-like text drawn from
 * a fixed pseudo-word vocabulary with a Zipf-like frequency, so that search terms of known
 * commonness exist in the data. Deterministic per seed.
 */
import { randomUUID } from "node:crypto";
import type { RoomEvent } from "../../src/protocol/index.ts";

/** mulberry32: a tiny seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ter",
  "su",
  "ven",
  "do",
  "ra",
  "pel",
  "qui",
  "zor",
  "an",
  "bel",
  "cor",
  "fen",
  "gal",
  "hin",
  "jup",
  "kel",
  "mun",
  "nor",
  "ost",
  "pra",
  "rud",
  "sil",
  "tov",
  "urb",
  "vel",
  "wix",
  "yar",
];

/** 4000 distinct pseudo-words; rank 0 is the most frequent. */
export const VOCAB: readonly string[] = (() => {
  const words = new Set<string>();
  const r = rng(42);
  while (words.size < 4000) {
    const n = 2 + Math.floor(r() * 2);
    let w = "";
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
})();

// Zipf (s = 1) over the vocabulary, sampled through the cumulative weights.
const CUMULATIVE: number[] = (() => {
  const out: number[] = [];
  let sum = 0;
  for (let k = 1; k <= VOCAB.length; k++) out.push((sum += 1 / k));
  return out.map((c) => c / sum);
})();

function zipfWord(r: () => number): string {
  const u = r();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return VOCAB[lo]!;
}

/** A chat line of 6–14 words. */
export function chatText(r: () => number): string {
  const n = 6 + Math.floor(r() * 9);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(zipfWord(r));
  return words.join(" ");
}

/**
 * Search terms of several selectivities (websearch_to_tsquery syntax), used round-robin by
 * the readers: frequent words match a large share of all messages, rare ones a handful.
 */
export const SEARCH_TERMS: readonly { label: string; q: string }[] = [
  { label: "rank 1 word (~12% of messages)", q: VOCAB[0]! },
  { label: "rank 10 word", q: VOCAB[9]! },
  { label: "rank 100 word", q: VOCAB[99]! },
  { label: "rank 1000 word", q: VOCAB[999]! },
  { label: "rank 3500 word", q: VOCAB[3499]! },
  { label: "two words (AND)", q: `${VOCAB[4]} ${VOCAB[40]}` },
  { label: "phrase", q: `"${VOCAB[2]} ${VOCAB[3]}"` },
  { label: "no match", q: "zzqxnomatch" },
];

export type EventMix = "posts" | "mixed";

/**
 * Generates a room's log from seq 1: room.created and the owner's member.joined, then chat.
 * `mixed`: per event 90% message.posted, 6% reaction.added, 2% message.edited,
 * 1% message.deleted, 1% member.joined (first post of a new user); `posts`: only posts.
 */
export class RoomLog {
  readonly room: string;
  readonly mix: EventMix;
  #seq = 0;
  #r: () => number;
  #posted: { seq: number; author: number }[] = [];
  #users: number;
  #joined = new Set<number>();

  readonly #userPrefix: string;

  /**
   * `sharedUsers`: the same 20 users act in every room (`u_bench_<i>`); otherwise each room has
   * its own 20 (`u_<room>_<i>`).
   */
  constructor(room: string, mix: EventMix, seed: number, sharedUsers = false, users = 20) {
    this.room = room;
    this.mix = mix;
    this.#r = rng(seed);
    this.#users = users;
    this.#userPrefix = sharedUsers ? "u_bench" : `u_${room}`;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  #actor(i: number) {
    return { id: `${this.#userPrefix}_${i}`, name: `bench user ${i}` };
  }

  #event(type: RoomEvent["type"], actor: number, data: unknown, at: number): RoomEvent {
    return {
      seq: ++this.#seq,
      id: randomUUID(),
      type,
      at,
      actor: this.#actor(actor),
      data,
    } as RoomEvent;
  }

  /** The next `n` events (n ≥ 2 for the first call). */
  next(n: number): RoomEvent[] {
    const out: RoomEvent[] = [];
    const at = Date.now();
    const r = this.#r;
    if (this.#seq === 0) {
      out.push(
        this.#event(
          "room.created",
          0,
          { name: this.room, topic: "bench", visibility: "public" },
          at,
        ),
        this.#event("member.joined", 0, {}, at),
      );
      this.#joined.add(0);
    }
    while (out.length < n) {
      const author = Math.floor(r() * this.#users);
      const roll = this.mix === "mixed" ? r() : 0;
      const target = this.#posted.length
        ? this.#posted[
            this.#posted.length - 1 - Math.floor(r() * Math.min(50, this.#posted.length))
          ]!
        : undefined;
      if (this.mix === "mixed" && !this.#joined.has(author) && roll < 0.5) {
        this.#joined.add(author);
        out.push(this.#event("member.joined", author, {}, at));
      } else if (roll >= 0.9 && roll < 0.96 && target) {
        out.push(this.#event("reaction.added", author, { messageId: target.seq, emoji: "👍" }, at));
      } else if (roll >= 0.96 && roll < 0.98 && target) {
        out.push(
          this.#event(
            "message.edited",
            target.author,
            { messageId: target.seq, text: chatText(r) },
            at,
          ),
        );
      } else if (roll >= 0.98 && roll < 0.99 && target) {
        out.push(this.#event("message.deleted", target.author, { messageId: target.seq }, at));
      } else {
        const e = this.#event("message.posted", author, { text: chatText(r) }, at);
        this.#posted.push({ seq: e.seq, author });
        if (this.#posted.length > 200) this.#posted.splice(0, 100);
        out.push(e);
      }
    }
    return out;
  }
}
