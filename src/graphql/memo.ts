/**
 * A per-request memo of storage calls: each key (a room and a call with its arguments) is
 * loaded at most once per request, however many fields ask for it, and every load is counted
 * so that the cost of a query can be stated and tested (docs/graphql.md).
 */
export class CallMemo {
  readonly #loads = new Map<string, Promise<unknown>>();
  #count = 0;

  /** How many loads actually ran (the storage calls this request made through the memo). */
  get count(): number {
    return this.#count;
  }

  load<T>(key: string, run: () => Promise<T>): Promise<T> {
    let pending = this.#loads.get(key) as Promise<T> | undefined;
    if (!pending) {
      this.#count += 1;
      pending = run();
      this.#loads.set(key, pending);
    }
    return pending;
  }
}
