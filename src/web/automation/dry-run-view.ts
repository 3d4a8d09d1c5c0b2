import type { DryRunReport } from "../../client/index.ts";
import { h, replace } from "../dom.ts";
import { dateText, dryRunHeadline } from "./automation-rules.ts";

/**
 * A dry run's report under the rule builder: a live region that says how often the rule would
 * have fired on the room's recent history, each event that would have set it off with what the
 * rule would have done (or why it would have been held back), and a schedule's next times.
 */
export function dryRunView() {
  const el = h("section", {
    class: "dry-run",
    role: "status",
    "aria-live": "polite",
    "aria-label": "Dry run",
    "data-testid": "dry-run",
  });

  function show(report: DryRunReport): void {
    const hits = report.hits.map((hit) =>
      h(
        "li",
        {
          "data-testid": "dry-run-hit",
          "data-seq": hit.seq,
          class: hit.skipped ? "skipped" : undefined,
        },
        h("span", { class: "when" }, dateText(hit.at)),
        " ",
        h("span", { class: "summary" }, hit.summary),
        hit.actions.length
          ? h("ul", { class: "would" }, ...hit.actions.map((action) => h("li", {}, `→ ${action}`)))
          : null,
        hit.skipped ? h("p", { class: "hint" }, `Held back: ${hit.skipped}`) : null,
      ),
    );
    const upcoming = report.upcoming ?? [];
    replace(
      el,
      h("h4", {}, "Dry run"),
      h("p", { "data-testid": "dry-run-headline" }, dryRunHeadline(report)),
      hits.length ? h("ol", { class: "dry-run-hits" }, ...hits) : null,
      upcoming.length
        ? h(
            "div",
            {},
            h("p", { class: "hint" }, "Next times:"),
            h(
              "ul",
              { class: "upcoming", "data-testid": "dry-run-upcoming" },
              ...upcoming.map((at) => h("li", {}, dateText(at))),
            ),
          )
        : null,
    );
  }

  function busy(): void {
    replace(el, h("p", { class: "hint" }, "Running the rule against the room's recent history…"));
  }

  function clear(): void {
    replace(el);
  }

  return { el, show, busy, clear };
}
