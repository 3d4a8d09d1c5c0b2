import type { IssuedKey, ServiceAccount } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext } from "../context.ts";
import { h, replace } from "../dom.ts";
import {
  deleteWithConfirm,
  keyLine,
  keyReveal,
  OVERLAPS,
  scopeFields,
  scopeText,
} from "./service-parts.ts";

/**
 * The admin dashboard's service accounts (docs/service-keys.md): the list with each key's
 * status and last use, a form to create one, and per service: its scope edited in place, a key
 * added, rotated (with an overlap) or revoked, the account disabled or enabled. A new key is
 * shown once, with a copy button and a warning; the server never shows it again. Each service
 * shows its owner (an admin, or the user whose bot it is) and may be deleted (asked first).
 */
export function servicesSection(ctx: AppContext): HTMLElement {
  const body = h("tbody", { "data-testid": "services" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "services-error",
    hidden: true,
  });
  const reveal = keyReveal();
  const name = h("input", {
    id: "service-name",
    name: "name",
    "data-testid": "service-name",
    required: true,
    autocomplete: "off",
    placeholder: "deploybot",
    maxlength: 32,
  });
  const scope = scopeFields("new", { rooms: "*", actions: ["post"], role: "member" });
  const create = h(
    "form",
    {
      class: "service-form",
      "aria-label": "Create a service account",
      on: {
        submit: (event) => {
          event.preventDefault();
          void act(async (api) => {
            const issued = await api.admin.createService({
              name: name.value.trim(),
              scope: scope.read(),
            });
            name.value = "";
            showKey(issued, `Service ${issued.service.name} created.`);
          });
        },
      },
    },
    h("div", { class: "row" }, h("label", { for: "service-name" }, "Name"), name),
    scope.el,
    h("button", { type: "submit", "data-testid": "service-create" }, "Create service"),
  );

  async function act(run: Parameters<AppContext["call"]>[0]): Promise<void> {
    problem.hidden = true;
    try {
      await ctx.call(run);
      await load();
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = errorText(error);
      problem.hidden = false;
    }
  }

  /** The key of `issued`, this once, to copy; the warning says it will not be shown again. */
  const showKey = (issued: IssuedKey, what: string) => reveal.show(issued, what, "service");

  function row(service: ServiceAccount): HTMLElement[] {
    const id = service.id;
    const overlap = h(
      "select",
      { "aria-label": `Overlap when rotating ${service.name}'s keys`, "data-testid": "overlap" },
      ...OVERLAPS.map(([seconds, label]) =>
        h("option", { value: seconds, selected: seconds === 86_400 }, label),
      ),
    );
    const editor = scopeFields(id, service.scope);
    const editRow = h(
      "tr",
      { class: "scope-edit", hidden: true },
      h(
        "td",
        { colspan: 4 },
        h(
          "form",
          {
            class: "service-form",
            "aria-label": `Scope of ${service.name}`,
            on: {
              submit: (event) => {
                event.preventDefault();
                void act((api) => api.admin.setServiceScope(id, editor.read()));
              },
            },
          },
          editor.el,
          h("button", { type: "submit", "data-testid": "scope-save" }, "Save scope"),
        ),
      ),
    );
    const keys = h(
      "ul",
      { class: "keys" },
      ...service.keys.map((key) =>
        keyLine(key, {
          rotate: () =>
            void act(async (api) => {
              const issued = await api.admin.rotateServiceKey(id, key.id, Number(overlap.value));
              showKey(issued, `Key ${key.id} of ${service.name} rotated.`);
            }),
          revoke: () => void act((api) => api.admin.revokeServiceKey(id, key.id)),
        }),
      ),
    );
    const disabled = service.disabledAt !== null;
    const main = h(
      "tr",
      { "data-service": service.name, class: disabled ? "bad" : undefined },
      h(
        "th",
        { scope: "row" },
        service.name,
        disabled ? h("span", { class: "badge muted" }, "disabled") : null,
        h("div", { class: "mono hint" }, id),
        h("div", { class: "hint", "data-testid": "owner" }, `owner: ${service.owner.name}`),
      ),
      h("td", { class: "wrap", "data-testid": "scope" }, scopeText(service.scope)),
      h("td", { class: "wrap" }, keys),
      h(
        "td",
        {},
        h(
          "div",
          { class: "service-actions" },
          h(
            "button",
            {
              type: "button",
              "data-testid": "add-key",
              on: {
                click: () =>
                  void act(async (api) =>
                    showKey(await api.admin.addServiceKey(id), `Key added to ${service.name}.`),
                  ),
              },
            },
            "Add key",
          ),
          h(
            "button",
            {
              type: "button",
              "data-testid": "edit-scope",
              "aria-expanded": "false",
              on: {
                click: (event) => {
                  editRow.hidden = !editRow.hidden;
                  (event.target as HTMLElement).setAttribute(
                    "aria-expanded",
                    String(!editRow.hidden),
                  );
                },
              },
            },
            "Edit scope",
          ),
          h(
            "button",
            {
              type: "button",
              class: disabled ? undefined : "danger",
              "data-testid": disabled ? "enable" : "disable",
              on: { click: () => void act((api) => api.admin.setServiceDisabled(id, !disabled)) },
            },
            disabled ? "Enable" : "Disable",
          ),
          h("label", {}, "Rotation overlap ", overlap),
          deleteWithConfirm(service.name, () => void act((api) => api.admin.deleteService(id))),
        ),
      ),
    );
    return [main, editRow];
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

  void load().catch((error: unknown) => {
    if (handleUnauthorized(ctx, error)) return;
    problem.textContent = `Could not load the service accounts: ${errorText(error)}`;
    problem.hidden = false;
  });

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
