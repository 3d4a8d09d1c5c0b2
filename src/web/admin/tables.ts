import type { AdminRoom } from "../../client/index.ts";
import { h } from "../dom.ts";
import { roomHref } from "../route.ts";
import { agoText } from "./overview-data.ts";

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

/** A room's row cells in the overview's busiest rooms and in Rooms: its link and activity. */
export const activityCells = (room: AdminRoom, now: number) => [
  h("th", { scope: "row" }, h("a", { href: roomHref(room.name) }, `#${room.name}`)),
  h("td", { class: "num" }, String(room.socketsOpen)),
  h("td", { class: "num" }, String(room.recentEvents)),
  h("td", {}, agoText(room.lastActiveAt, now)),
];
