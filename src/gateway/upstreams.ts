/**
 * The worker origins a gateway forwards to, and which of them are healthy: round robin over the
 * healthy ones; one that fails a health check or a call is set aside until a check passes. Pure:
 * time and checks come from outside (server.ts runs them).
 */
export class Upstreams {
  readonly #urls: readonly string[];
  readonly #down = new Set<string>();
  #next = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new Error("a gateway needs at least one upstream");
    this.#urls = [...new Set(urls.map((url) => url.replace(/\/+$/, "")))];
  }

  get all(): readonly string[] {
    return this.#urls;
  }

  healthy(): string[] {
    return this.#urls.filter((url) => !this.#down.has(url));
  }

  /**
   * The upstreams to try for one call, in order: the healthy ones from the next in turn (round
   * robin), so that a retry goes to another one; none when every upstream is down.
   */
  order(): string[] {
    const healthy = this.healthy();
    if (healthy.length === 0) return [];
    const start = this.#next++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start)];
  }

  down(url: string): void {
    this.#down.add(url);
  }

  up(url: string): void {
    this.#down.delete(url);
  }
}
