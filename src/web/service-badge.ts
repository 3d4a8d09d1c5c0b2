import { isServiceId } from "../client/index.ts";
import { h } from "./dom.ts";

/** A "service" badge beside a name whose id is a service account's (docs/service-keys.md). */
export const serviceBadge = (id: string): HTMLElement | null =>
  isServiceId(id)
    ? h(
        "span",
        { class: "badge service", "data-testid": "service-badge", title: "a service account" },
        "service",
      )
    : null;
