import type { AppContext, View } from "../context.ts";
import { h } from "../dom.ts";
import { webhookScope } from "../webhooks/scope.ts";
import { WebhooksPanel } from "../webhooks/webhooks-panel.ts";

/**
 * The instance's outgoing webhooks (docs/integrations.md): every room's events, for admins, in
 * the same panel a room's owner has in the room (webhooks/webhooks-panel.ts).
 */
export function webhooksSection(ctx: AppContext): View {
  const panel = new WebhooksPanel(webhookScope(ctx, (api) => api.admin.webhooks, true));
  return {
    el: h("div", { class: "admin-section" }, panel.el),
    dispose: () => panel.dispose(),
  };
}
