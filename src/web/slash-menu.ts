import { slashCompletions, type SlashEntry } from "../client/index.ts";
import { h, replace } from "./dom.ts";

/**
 * The compose box's completion of slash commands (docs/integrations.md): when the text starts
 * with `/`, the commands whose name starts with what is typed (GET …/slash-commands, filtered),
 * chosen with the arrow keys and taken with Tab or Enter; then a hint line with the command's
 * usage. The rules are the protocol's `slashCompletions`; this draws them.
 */
export class SlashMenu {
  readonly el: HTMLElement;
  readonly #input: HTMLTextAreaElement;
  readonly #list = h("ul", {
    class: "slash-menu",
    role: "listbox",
    id: "slash-menu",
    "aria-label": "Slash commands",
    "data-testid": "slash-menu",
    hidden: true,
  });
  readonly #hint = h("p", { class: "hint slash-hint", "data-testid": "slash-hint", hidden: true });
  #commands: readonly SlashEntry[] = [];
  /** What the list shows now, and which of them is chosen. */
  #offered: SlashEntry[] = [];
  #chosen = 0;

  constructor(input: HTMLTextAreaElement) {
    this.#input = input;
    this.el = h("div", { class: "slash" }, this.#list, this.#hint);
    input.setAttribute("aria-controls", "slash-menu");
    input.addEventListener("blur", () => this.#close());
  }

  /** The commands this user may use in the room (loaded, or loaded again after a change). */
  setCommands(commands: readonly SlashEntry[]): void {
    this.#commands = commands;
    if (document.activeElement === this.#input) this.update();
  }

  /** Follows the text: the list while a name is typed, the usage hint after it. */
  update(): void {
    const { entries, typingName } = slashCompletions(this.#input.value, this.#commands);
    this.#offered = typingName ? entries : [];
    this.#chosen = Math.min(this.#chosen, Math.max(0, this.#offered.length - 1));
    this.#drawList();
    const hinted = typingName ? this.#offered[this.#chosen] : entries[0];
    this.#hint.textContent = hinted ? `${hinted.usage}: ${hinted.description}` : "";
    this.#hint.hidden = !hinted;
  }

  /** A key in the compose box: true when the menu took it (the box must not send). */
  handleKey(event: KeyboardEvent): boolean {
    if (this.#list.hidden || event.isComposing) return false;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        const step = event.key === "ArrowDown" ? 1 : -1;
        const count = this.#offered.length;
        this.#chosen = (this.#chosen + step + count) % count;
        this.update();
        break;
      }
      case "Tab":
      case "Enter": {
        const entry = this.#offered[this.#chosen]!;
        if (event.shiftKey) return false;
        // A name typed in full runs on Enter, as a message would be sent.
        if (event.key === "Enter" && this.#input.value.trim().toLowerCase() === `/${entry.name}`)
          return false;
        this.#take(entry);
        break;
      }
      case "Escape":
        this.#close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }

  /** Writes the chosen name in place of what was typed, with a space for its arguments. */
  #take(entry: SlashEntry): void {
    this.#input.value = `/${entry.name} `;
    this.#input.setSelectionRange(this.#input.value.length, this.#input.value.length);
    this.update();
  }

  #close(): void {
    this.#list.hidden = true;
    this.#input.removeAttribute("aria-activedescendant");
  }

  #drawList(): void {
    this.#list.hidden = this.#offered.length === 0;
    replace(
      this.#list,
      ...this.#offered.map((entry, i) =>
        h(
          "li",
          {
            id: `slash-option-${i}`,
            role: "option",
            class: entry.kind,
            "aria-selected": String(i === this.#chosen),
            "data-testid": "slash-option",
            // mousedown, before the box loses focus (which closes the list).
            on: {
              mousedown: (event: MouseEvent) => {
                event.preventDefault();
                this.#take(entry);
              },
            },
          },
          h("span", { class: "name" }, `/${entry.name}`),
          " ",
          h("span", { class: "description" }, entry.description),
        ),
      ),
    );
    if (this.#list.hidden) this.#input.removeAttribute("aria-activedescendant");
    else this.#input.setAttribute("aria-activedescendant", `slash-option-${this.#chosen}`);
  }
}
