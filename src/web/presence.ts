import type { UserRef } from "../client/index.ts";
import { h } from "./dom.ts";

const SHOWN_MS = 3_000;

/** "ada is typing…" for a few seconds after each typing frame. */
export class TypingIndicator {
  readonly el = h("p", { class: "typing", "aria-live": "polite", "data-testid": "typing" });
  #typing = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();

  saw(user: UserRef): void {
    clearTimeout(this.#typing.get(user.id)?.timer);
    this.#typing.set(user.id, {
      name: user.name,
      timer: setTimeout(() => this.stopped(user.id), SHOWN_MS),
    });
    this.#render();
  }

  /** The user posted or went away: no longer typing. */
  stopped(userId: string): void {
    const entry = this.#typing.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#typing.delete(userId);
    this.#render();
  }

  dispose(): void {
    for (const { timer } of this.#typing.values()) clearTimeout(timer);
    this.#typing.clear();
  }

  #render(): void {
    const names = [...this.#typing.values()].map((t) => t.name);
    this.el.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : `${names.length} people are typing…`;
  }
}
