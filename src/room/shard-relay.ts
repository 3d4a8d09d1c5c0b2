import type { RoomEvent } from "../protocol/index.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * What a room sends one of its fan-out shards: committed events, in seq order, and signal frames
 * (presence, typing) for every socket there but those of `exceptUser`, or (an ephemeral answer)
 * for those of `onlyUser` alone.
 */
export type Relay = {
  events: RoomEvent[];
  frames: { text: string; exceptUser?: string | undefined; onlyUser?: string | undefined }[];
};

const MAX_RETRY_MS = 1_000;

/**
 * The room's side of its shards: per shard one relay in flight, and what is committed meanwhile
 * goes in the next one, so that a busy room's relays coalesce (like its group commits) and
 * arrive in order. A shard that cannot be reached is retried with backoff, never skipped: a
 * socket there must not miss an event. Pure apart from `send`.
 */
export class ShardRelay {
  readonly #send: (shard: number, relay: Relay) => Promise<void>;
  readonly #pending = new Map<number, Relay>();
  readonly #busy = new Set<number>();
  readonly #keepAlive: (work: Promise<unknown>) => void;

  constructor(
    send: (shard: number, relay: Relay) => Promise<void>,
    keepAlive: (work: Promise<unknown>) => void = () => undefined,
  ) {
    this.#send = send;
    this.#keepAlive = keepAlive;
  }

  push(shard: number, relay: Relay): void {
    if (relay.events.length === 0 && relay.frames.length === 0) return;
    const pending = this.#pending.get(shard);
    if (pending) {
      pending.events.push(...relay.events);
      pending.frames.push(...relay.frames);
    } else {
      this.#pending.set(shard, { events: [...relay.events], frames: [...relay.frames] });
    }
    if (!this.#busy.has(shard)) this.#keepAlive(this.#drain(shard));
  }

  /** Relays still waiting to leave, for tests and the admin's view. */
  get pending(): number {
    return this.#pending.size + this.#busy.size;
  }

  async #drain(shard: number): Promise<void> {
    this.#busy.add(shard);
    let attempt = 0;
    try {
      for (let next = this.#pending.get(shard); next; next = this.#pending.get(shard)) {
        this.#pending.delete(shard);
        try {
          await this.#send(shard, next);
          attempt = 0;
        } catch (error) {
          log.warn("relay to shard failed, will retry", { shard, error: errorFields(error) });
          // Back in front of whatever came meanwhile, so the order holds.
          const later = this.#pending.get(shard);
          this.#pending.set(shard, {
            events: [...next.events, ...(later?.events ?? [])],
            frames: [...next.frames, ...(later?.frames ?? [])],
          });
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(MAX_RETRY_MS, 50 * 2 ** attempt++)),
          );
        }
      }
    } finally {
      this.#busy.delete(shard);
    }
  }
}
