import type { DryRunReport } from "../../client/index.ts";
import { h, replace } from "../dom.ts";
import { dateText, dryRunHeadline } from "./automation-rules.ts";

/**
 * A dry run's report under the rule builder: a live region that says how often the rule would
 * have fired on the room's recent history, each event that would have set it off with what the
 * rule would have done (or why it would have been held back), and a schedule's next times. An
 * instance rule's report names its room, and says so when the rule's rooms leave that room out.
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

  /** Said while it runs; `room` names where, for an instance rule. */
  function busy(room?: string): void {
    const where = room === undefined ? "the room's" : `#${room}'s`;
    replace(el, h("p", { class: "hint" }, `Running the rule against ${where} recent history…`));
  }

  function clear(): void {
    replace(el);
  }

  return { el, show, busy, clear };
}
