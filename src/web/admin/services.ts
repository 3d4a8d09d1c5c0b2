import type { IssuedKey, ServiceAccount } from "../../client/index.ts";
import type { AppContext } from "../context.ts";
import { h, replace } from "../dom.ts";
import {
  keyReveal,
  newServiceForm,
  scopeFields,
  scopeText,
  serviceControls,
  serviceRunner,
} from "./service-parts.ts";
import { apiScope } from "../webhooks/scope.ts";

/**
 * The admin dashboard's service accounts (docs/service-keys.md): the list with each key's
 * status and last use, a form to create one, and per service: its scope edited in place, a key
 * added, rotated (with an overlap) or revoked, the account disabled or enabled. A new key is
 * shown once, with a copy button and a warning; the server never shows it again. Each service
 * shows its owner (an admin, or the user whose bot it is) and may be deleted (asked first).
 */
export function servicesSection(ctx: AppContext): HTMLElement {
  const body = h("tbody", { "data-testid": "services" });
  const reveal = keyReveal();
  /** The key of `issued`, this once, to copy; the warning says it will not be shown again. */
  const showKey = (issued: IssuedKey, what: string) => reveal.show(issued, what, "service");
  const { problem, act, failed } = serviceRunner(
    apiScope(ctx, (api) => api.admin.serviceAccounts),
    "services-error",
    load,
  );
  const create = newServiceForm({
    act,
    showKey,
    editor: scopeFields("new", { rooms: "*", actions: ["post"], role: "member" }),
    nameId: "service-name",
    attrs: { class: "service-form", "aria-label": "Create a service account" },
    submit: { testid: "service-create", text: "Create service" },
    made: (name) => `Service ${name} created.`,
  });

  function row(service: ServiceAccount): HTMLElement[] {
    const controls = serviceControls(service, {
      act,
      showKey,
      editor: scopeFields(service.id, service.scope),
      // In the table the form has a row of its own under the service's.
      editIn: (form) => h("tr", { class: "scope-edit" }, h("td", { colspan: 4 }, form)),
    });
    const disabled = service.disabledAt !== null;
    const main = h(
      "tr",
      { "data-service": service.name, class: disabled ? "bad" : undefined },
      h(
        "th",
        { scope: "row" },
        service.name,
        disabled ? h("span", { class: "badge muted" }, "disabled") : null,
        h("div", { class: "mono hint" }, service.id),
        h("div", { class: "hint", "data-testid": "owner" }, `owner: ${service.owner.name}`),
      ),
      h("td", { class: "wrap", "data-testid": "scope" }, scopeText(service.scope)),
      h("td", { class: "wrap" }, controls.keys),
      h("td", {}, controls.actions),
    );
    return [main, controls.edit];
  }

  async function load(): Promise<void> {
    const { services } = await ctx.call((api) => api.admin.services());
    replace(
      body,
      ...(services.length
        ? services.flatMap(row)
        : [h("tr", {}, h("td", { colspan: 4, class: "hint" }, "No service accounts yet."))]),
    );
  }

  void load().catch(failed("Could not load the service accounts"));

  return h(
    "section",
    { class: "card services", "aria-labelledby": "services-title" },
    h("h2", { id: "services-title" }, "Services"),
    h(
      "p",
      { class: "hint" },
      "Service accounts post and moderate with API keys (Authorization: Bearer ecsk_…), in the " +
        "rooms and with the actions of their scope. Events they post name them as their author.",
    ),
    create,
    reveal.el,
    problem,
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": "Service accounts", tabindex: 0 },
      h(
        "table",
        { class: "report" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Service", "Scope", "Keys", "Manage"].map((text) =>
              h("th", { scope: "col" }, text),
            ),
          ),
        ),
        body,
      ),
    ),
  );
}
