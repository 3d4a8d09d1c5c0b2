import type { RpcCallRecord } from "../rpc/interceptors.ts";

/** One method's calls ending with one code: how many, and their total and slowest duration. */
export type CallCount = { calls: number; totalMs: number; maxMs: number };

/**
 * The gateway's calls per method and status code, in memory: what a metrics endpoint will read
 * (the observability issue), and what the tests look at now.
 */
export class CallCounts {
  readonly #counts = new Map<string, CallCount>();

  record({ procedure, code, durationMs }: RpcCallRecord): void {
    const key = `${procedure} ${code}`;
    const count = this.#counts.get(key) ?? { calls: 0, totalMs: 0, maxMs: 0 };
    this.#counts.set(key, {
      calls: count.calls + 1,
      totalMs: count.totalMs + durationMs,
      maxMs: Math.max(count.maxMs, durationMs),
    });
  }

  /** `{ "/edgechat.v1.MessageService/PostMessage ok": { calls, totalMs, maxMs }, … }` */
  snapshot(): Record<string, CallCount> {
    return Object.fromEntries(this.#counts);
  }
}
