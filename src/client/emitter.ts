/** A minimal typed event emitter: the same code in browsers, Node and workerd. */
export class Emitter<Events extends Record<string, unknown>> {
  #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Subscribes; the returned function unsubscribes. */
  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.#listeners.set(type, set);
    return () => set.delete(listener as (payload: never) => void);
  }

  protected emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        // A listener's bug must not break the connection's frame loop.
        console.error(`edgechat: ${String(type)} listener threw`, error);
      }
    }
  }
}
