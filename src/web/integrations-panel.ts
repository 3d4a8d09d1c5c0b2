import type { AppContext, View } from "./context.ts";
import { h } from "./dom.ts";
import { roomHref } from "./route.ts";
import { SlashSettings } from "./slash-settings.ts";
import { IncomingWebhooksPanel } from "./webhooks/incoming-panel.ts";
import { apiScope, webhookScope } from "./webhooks/scope.ts";
import { WebhooksPanel } from "./webhooks/webhooks-panel.ts";

/**
 * A room's integrations (docs/integrations.md), for its owner and admins, at
 * `#/room/<name>/integrations`, in place of the live room as the history is: a section per kind,
 * its outgoing webhooks with their delivery logs, its incoming webhooks, and its custom slash
 * commands. Nobody else gets it (chat-view.ts opens it only for those whose standing allows
 * `integrations`; the API answers anyone else 403).
 */
export function integrationsPanel(ctx: AppContext, room: string): View {
  const webhooks = new WebhooksPanel(webhookScope(ctx, (api) => api.webhooks(room), false));
  const incoming = new IncomingWebhooksPanel(
    apiScope(ctx, (api) => api.incomingWebhooks(room)),
    room,
  );
  const el = h(
    "section",
    {
      class: "integrations",
      "aria-label": `Integrations of #${room}`,
      "data-testid": "integrations",
      tabindex: -1,
    },
    h(
      "div",
      { class: "integrations-head" },
      h("p", {}, `Integrations of #${room}: for its owner and admins.`),
      h(
        "a",
        { href: roomHref(room), class: "button-link", "data-testid": "integrations-close" },
        "Back to the room",
      ),
    ),
    webhooks.el,
    incoming.el,
    new SlashSettings(ctx, room).el,
  );
  return {
    el,
    dispose: () => {
      webhooks.dispose();
      incoming.dispose();
    },
  };
}
