import { isServiceId } from "../client/index.ts";
import { h } from "./dom.ts";

/**
 * A "bot" badge beside a name whose id is a service account's (docs/service-keys.md): an
 * admin's service or a user's bot (docs/integrations.md), which act alike. By id, never by
 * name, so a bot named like a person cannot pass for one.
 */
export const serviceBadge = (id: string): HTMLElement | null =>
  isServiceId(id)
    ? h(
        "span",
        {
          class: "badge service",
          "data-testid": "service-badge",
          title: "a bot: a service account that acts with an API key",
        },
        "bot",
      )
    : null;
