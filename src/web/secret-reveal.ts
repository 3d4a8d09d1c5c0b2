import { h, replace } from "./dom.ts";

/**
 * A secret the server shows once (a service's or a bot's key, a webhook's signing secret): in a
 * read-only box to copy, with a Copy button, a warning that it will not be shown again, and Done
 * to put it away. `name` makes the ids and test ids (`<name>`, `<name>-copy`, `<name>-warning`, …).
 * @example const reveal = secretReveal({ name: "webhook-secret", label: "Secret", testid: "webhook-secret-reveal" });
 */
export function secretReveal(options: { name: string; label: string; testid: string }) {
  const { name } = options;
  const el = h("div", { class: "key-reveal", "data-testid": options.testid, hidden: true });

  function hide(): void {
    replace(el);
    el.hidden = true;
  }

  /**
   * Shows `secret` under `intro` ("Service deploybot created. Its new key:") and `warning` (what
   * someone who has it can do) and focuses it.
   */
  function show(secret: string, intro: string, warning: string): void {
    const box = h("input", {
      id: name,
      class: "mono",
      readonly: true,
      value: secret,
      autocomplete: "off",
      spellcheck: "false",
      "data-testid": name,
      "aria-describedby": `${name}-warning`,
      on: { focus: (event) => (event.target as HTMLInputElement).select() },
    });
    const copied = h("span", { class: "hint", role: "status", "data-testid": `${name}-copied` });
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copied.textContent = "Copied.";
      } catch {
        box.select();
        copied.textContent = "Copy failed: it is selected, press Ctrl+C.";
      }
    };
    replace(
      el,
      h("p", {}, intro),
      h(
        "p",
        { id: `${name}-warning`, class: "warning", "data-testid": `${name}-warning` },
        warning,
      ),
      h(
        "div",
        { class: "row" },
        h("label", { for: name }, options.label),
        box,
        h(
          "button",
          { type: "button", "data-testid": `${name}-copy`, on: { click: () => void copy() } },
          "Copy",
        ),
        h("button", { type: "button", "data-testid": `${name}-done`, on: { click: hide } }, "Done"),
      ),
      copied,
    );
    el.hidden = false;
    box.focus();
  }

  return { el, show, hide };
}
