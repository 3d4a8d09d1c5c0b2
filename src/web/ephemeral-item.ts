import type { Ephemeral } from "./chat-state.ts";
import { h, time } from "./dom.ts";

/**
 * Where an ephemeral answer goes in the list: just after the event that was newest when it
 * came, in the order they came (`id / (id + 1)` grows towards 1 without reaching it, so that it
 * never passes the next event).
 */
export const ephemeralKey = (ephemeral: Ephemeral): number =>
  ephemeral.after + ephemeral.id / (ephemeral.id + 1);

/** A slash command's answer for you alone: who answered, the text, and a way to dismiss it. */
export function ephemeralItem(ephemeral: Ephemeral, dismiss: () => void): HTMLLIElement {
  return h(
    "li",
    { class: "message ephemeral", "data-testid": "ephemeral" },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, ephemeral.from),
      " ",
      time(ephemeral.at),
      " ",
      h("span", { class: "hint" }, "Only you can see this"),
    ),
    h("p", { class: "text", "data-testid": "ephemeral-text" }, ephemeral.text),
    h(
      "button",
      { type: "button", class: "link", "data-testid": "ephemeral-dismiss", on: { click: dismiss } },
      "Dismiss",
    ),
  );
}
