import { isSlashCommand } from "../client/index.ts";
import { h } from "./dom.ts";
import { SlashMenu } from "./slash-menu.ts";

const TYPING_EVERY_MS = 2_000;

/**
 * The compose box: Enter sends, Shift+Enter starts a new line; typing is signalled at most every
 * 2 s; text starting with `/` offers slash commands (slash-menu.ts).
 */
export class Composer {
  readonly el: HTMLFormElement;
  readonly input = h("textarea", {
    id: "compose",
    name: "text",
    rows: 2,
    "data-testid": "compose",
    placeholder: "Write a message",
    autocomplete: "off",
  });
  readonly #button = h("button", { type: "submit", "data-testid": "send" }, "Send");
  readonly slash = new SlashMenu(this.input);
  #typedAt = 0;

  constructor(send: (text: string) => void, typing: () => void) {
    this.el = h(
      "form",
      {
        class: "compose",
        on: {
          submit: (event) => {
            event.preventDefault();
            const text = this.input.value;
            if (!text.trim()) return;
            this.input.value = "";
            this.slash.update();
            send(text);
          },
        },
      },
      h("label", { for: "compose", class: "visually-hidden" }, "Message"),
      h("div", { class: "compose-box" }, this.slash.el, this.input),
      this.#button,
    );
    this.input.addEventListener("keydown", (event) => {
      if (this.slash.handleKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.el.requestSubmit();
      }
    });
    this.input.addEventListener("input", () => {
      this.slash.update();
      const now = Date.now();
      // A command being typed is nobody else's business.
      const value = this.input.value;
      if (now - this.#typedAt < TYPING_EVERY_MS || !value || isSlashCommand(value)) return;
      this.#typedAt = now;
      typing();
    });
  }

  /** Off until the room is found, and for good after a fatal close. */
  setEnabled(enabled: boolean): void {
    this.input.disabled = !enabled;
    this.#button.disabled = !enabled;
  }
}
