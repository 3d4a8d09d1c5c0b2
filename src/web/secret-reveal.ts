import { h, replace } from "./dom.ts";

/** Something ready to paste that uses the secret (a `curl` command), shown under it to copy. */
export type SecretExample = { label: string; text: string };

/**
 * A secret the server shows once (a service's or a bot's key, a webhook's signing secret, an
 * incoming webhook's URL): in a read-only box to copy, with a Copy button, a warning that it will
 * not be shown again, and Done to put it away; optionally an example that uses it, to copy too.
 * `name` makes the ids and test ids (`<name>`, `<name>-copy`, `<name>-warning`, `<name>-example`,
 * …). `afterDone` says where the focus goes when Done takes the box (and its focus) away.
 * @example const reveal = secretReveal({ name: "webhook-secret", label: "Secret", testid: "webhook-secret-reveal" });
 */
export function secretReveal(options: {
  name: string;
  label: string;
  testid: string;
  afterDone?: () => void;
}) {
  const { name } = options;
  const el = h("div", { class: "key-reveal", "data-testid": options.testid, hidden: true });

  function hide(): void {
    replace(el);
    el.hidden = true;
  }

  /**
   * Shows `secret` under `intro` ("Service deploybot created. Its new key:") and `warning` (what
   * someone who has it can do) and focuses it; `example` below it.
   */
  function show(secret: string, intro: string, warning: string, example?: SecretExample): void {
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
    const copy = async (text: string, done: string, select: () => void) => {
      try {
        await navigator.clipboard.writeText(text);
        copied.textContent = done;
      } catch {
        select();
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
          {
            type: "button",
            "data-testid": `${name}-copy`,
            on: { click: () => void copy(secret, "Copied.", () => box.select()) },
          },
          "Copy",
        ),
        h(
          "button",
          {
            type: "button",
            "data-testid": `${name}-done`,
            on: {
              click: () => {
                hide();
                options.afterDone?.();
              },
            },
          },
          "Done",
        ),
      ),
      example
        ? exampleBlock(name, example, (text, select) => copy(text, "Example copied.", select))
        : null,
      copied,
    );
    el.hidden = false;
    box.focus();
  }

  return { el, show, hide };
}

/** The example as text that wraps (never scrolls the page sideways), with its own Copy. */
function exampleBlock(
  name: string,
  example: SecretExample,
  copy: (text: string, select: () => void) => Promise<void>,
): HTMLElement {
  const id = `${name}-example`;
  const text = h("pre", { id, class: "mono example", "data-testid": id }, example.text);
  const select = () => window.getSelection()?.selectAllChildren(text);
  return h(
    "div",
    { class: "reveal-example" },
    h(
      "div",
      { class: "row" },
      h("span", { id: `${id}-label` }, example.label),
      h(
        "button",
        {
          type: "button",
          "aria-describedby": `${id}-label`,
          "data-testid": `${id}-copy`,
          on: { click: () => void copy(example.text, select) },
        },
        "Copy example",
      ),
    ),
    text,
  );
}
