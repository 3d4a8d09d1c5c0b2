import type { ServerFrameOf, UserRef } from "../client/index.ts";
import { h, replace } from "./dom.ts";

/** Who is online in the room: the welcome's list, then presence frames. */
export class OnlineList {
  readonly el: HTMLElement;
  readonly #heading = h("h3", {}, "Online");
  readonly #list = h("ul", { "data-testid": "online" });
  #users = new Map<string, string>();
  #you: string | undefined;

  constructor() {
    this.el = h("aside", { class: "online", "aria-label": "Online" }, this.#heading, this.#list);
  }

  reset(users: readonly UserRef[], you: string): void {
    this.#you = you;
    this.#users = new Map(users.map((u) => [u.id, u.name]));
    this.#render();
  }

  apply(frame: ServerFrameOf<"presence">): void {
    if (frame.joined) this.#users.set(frame.joined.id, frame.joined.name);
    if (frame.left) this.#users.delete(frame.left.id);
    this.#render();
  }

  #render(): void {
    this.#heading.textContent = `Online (${this.#users.size})`;
    const names = [...this.#users].sort((a, b) => a[1].localeCompare(b[1]));
    replace(
      this.#list,
      ...names.map(([id, name]) =>
        h(
          "li",
          { "data-user": id },
          name,
          id === this.#you ? h("span", { class: "you" }, " (you)") : null,
        ),
      ),
    );
  }
}

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
