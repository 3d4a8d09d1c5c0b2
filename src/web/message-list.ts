import type { HistoryState } from "./chat-model.ts";
import { h } from "./dom.ts";

/**
 * The scrolling list of a room: items kept in seq order, an optional "new messages" divider,
 * and pending posts below them all. Owns the scroll position (stick to the bottom, keep the
 * place when older history is prepended).
 */
export class MessageList {
  readonly el: HTMLElement;
  readonly older: HTMLButtonElement;
  readonly #list = h("ol", {
    class: "messages",
    role: "log",
    "data-testid": "messages",
    "aria-label": "Messages",
  });
  readonly #pending = h("ol", { class: "pending", "aria-label": "Sending" });
  readonly #divider = h(
    "li",
    { class: "divider", role: "separator", "data-testid": "unread-divider" },
    "New messages",
  );
  readonly #start = h("p", { class: "start", hidden: true }, "This is the beginning of the room.");
  #keys: number[] = [];
  #items = new Map<number, HTMLElement>();
  #dividerAt: number | undefined;

  constructor(loadOlder: () => void) {
    this.older = h(
      "button",
      {
        type: "button",
        class: "older",
        "data-testid": "load-older",
        hidden: true,
        on: { click: loadOlder },
      },
      "Load older",
    );
    this.el = h(
      "div",
      { class: "scroller", "data-testid": "scroller", tabindex: 0 },
      this.#start,
      this.older,
      this.#list,
      this.#pending,
    );
    this.el.addEventListener("scroll", () => {
      if (this.el.scrollTop < 40 && !this.older.hidden && !this.older.disabled) loadOlder();
    });
  }

  get dividerAt(): number | undefined {
    return this.#dividerAt;
  }

  has(key: number): boolean {
    return this.#items.has(key);
  }

  /** The highest key shown. */
  get newest(): number | undefined {
    return this.#keys.at(-1);
  }

  /** Inserts `el` at `key`'s place in seq order (replacing what was there). */
  put(key: number, el: HTMLElement): void {
    const existing = this.#items.get(key);
    if (existing) {
      if (existing !== el) existing.replaceWith(el);
      this.#items.set(key, el);
      return;
    }
    const index = this.#insertionIndex(key);
    const nextKey = this.#keys[index];
    let ref: Node | null = nextKey === undefined ? null : this.#items.get(nextKey)!;
    if (ref && ref.previousSibling === this.#divider) ref = this.#divider;
    this.#list.insertBefore(el, ref);
    this.#keys.splice(index, 0, key);
    this.#items.set(key, el);
  }

  /** Takes `key`'s item out, if it is there. */
  remove(key: number): void {
    const item = this.#items.get(key);
    if (!item) return;
    item.remove();
    this.#items.delete(key);
    this.#keys.splice(this.#keys.indexOf(key), 1);
  }

  clear(): void {
    this.#list.replaceChildren();
    this.#keys = [];
    this.#items.clear();
    this.#dividerAt = undefined;
  }

  /** Draws the "new messages" divider just before `key`'s item. */
  markUnread(key: number): void {
    const item = this.#items.get(key);
    if (!item) return;
    this.#dividerAt = key;
    this.#list.insertBefore(this.#divider, item);
  }

  addPending(el: HTMLElement): void {
    this.#pending.append(el);
  }

  /** The top of the list: "Load older" (busy while `loading`), or the beginning-of-room line. */
  setHistoryState({ hasOlder, loading, beginning }: HistoryState): void {
    this.older.hidden = !hasOlder;
    this.older.disabled = loading;
    this.older.textContent = loading ? "Loading…" : "Load older";
    this.#start.hidden = !beginning;
  }

  /** Whether the newest item is in view (within a few pixels). */
  atBottom(): boolean {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 48;
  }

  scrollToBottom(): void {
    this.el.scrollTop = this.el.scrollHeight;
  }

  /** Runs `change` (which prepends) and keeps the items in view where they were. */
  keepPlace(change: () => void): void {
    const fromBottom = this.el.scrollHeight - this.el.scrollTop;
    change();
    this.el.scrollTop = this.el.scrollHeight - fromBottom;
  }

  #insertionIndex(key: number): number {
    let low = 0;
    let high = this.#keys.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
