import type { AppContext, View } from "../context.ts";
import { h } from "../dom.ts";
import { ADMIN_SECTIONS, adminHref, type AdminSection, type Route } from "../route.ts";
import { auditLogSection } from "./audit-log.ts";
import { databaseSection } from "./database.ts";
import { overviewSection } from "./overview.ts";
import { pluginsSection } from "./plugins.ts";
import { roomsSection } from "./rooms.ts";
import { rulesSection } from "./rules.ts";
import { servicesSection } from "./services.ts";
import { slackSection } from "./slack.ts";
import { usersSection } from "./users.ts";
import { webhooksSection } from "./webhooks.ts";

const TITLES: Record<AdminSection, string> = {
  overview: "Overview",
  rooms: "Rooms",
  users: "Users",
  services: "Services",
  webhooks: "Webhooks",
  slack: "Slack",
  rules: "Rules",
  plugins: "Plugins",
  audit: "Audit log",
  database: "Database",
};

/** Each section builds its own view; only the one shown runs (and polls). */
const SECTIONS: Record<AdminSection, (ctx: AppContext, name?: string) => View> = {
  overview: overviewSection,
  rooms: roomsSection,
  users: usersSection,
  services: (ctx) => ({ el: servicesSection(ctx), dispose() {} }),
  webhooks: webhooksSection,
  slack: (ctx) => ({ el: slackSection(ctx), dispose() {} }),
  rules: rulesSection,
  plugins: pluginsSection,
  audit: (ctx) => ({ el: auditLogSection(ctx), dispose() {} }),
  database: databaseSection,
};

/**
 * The admin dashboard, for instance admins (docs/observability.md, "Admin dashboard"): a menu
 * of sections, each its own URL (`#/admin/<section>`) and file: the live Overview, Rooms,
 * Users, Services, the instance's Webhooks, Slack (the bridge's links), the instance's Rules
 * (the rule builder in the instance's scope, a dry run in a room), Plugins (install,
 * versions, the instance's switch), the Audit log and the Database. Loaded as its own chunk (app.ts); the server refuses every call of a non-admin with
 * 403, which each section says.
 */
export function dashboard(ctx: AppContext, route: Extract<Route, { view: "admin" }>): View {
  const section = SECTIONS[route.section](ctx, route.name);
  const nav = h(
    "nav",
    { class: "admin-nav", "aria-label": "Admin sections", "data-testid": "admin-nav" },
    ...ADMIN_SECTIONS.map((key) =>
      h(
        "a",
        {
          href: adminHref(key),
          "data-section": key,
          "aria-current": key === route.section ? "page" : undefined,
        },
        TITLES[key],
      ),
    ),
  );
  const el = h(
    "main",
    { class: "screen admin", "data-section": route.section },
    h(
      "div",
      { class: "row spread admin-head" },
      h("h2", {}, `Admin · ${TITLES[route.section]}`),
      h("a", { href: "#/" }, "← Rooms"),
    ),
    nav,
    section.el,
  );
  return { el, dispose: () => section.dispose() };
}
