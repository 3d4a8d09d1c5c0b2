import { h } from "../dom.ts";

/**
 * A report table in a box that scrolls sideways by itself, so that a wide table never makes
 * the page scroll sideways on a phone; focusable so that keyboards can scroll it too.
 */
export function reportTable(
  headings: string[],
  body: HTMLTableSectionElement,
  label: string,
): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": label, tabindex: 0 },
    h(
      "table",
      { class: "report" },
      h("thead", {}, h("tr", {}, ...headings.map((text) => h("th", { scope: "col" }, text)))),
      body,
    ),
  );
}

/** A number cell; null shows as a dash. */
export const num = (value: number | null) =>
  h("td", { class: "num" }, value === null ? "–" : String(value));
