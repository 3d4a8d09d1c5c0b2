import { errorText, type AppContext, type View } from "../context.ts";
import { h, replace } from "../dom.ts";
import {
  bundleProblem,
  hooksText,
  hostsOf,
  grantText,
  hostsText,
  idFromFileName,
  newestFirst,
} from "../automation/plugin-rules.ts";
import { apiScope, type ApiScope } from "../webhooks/scope.ts";
import type { InstalledPluginDetail } from "../../client/index.ts";
import { adminPluginsCalls, type AdminPluginsCalls } from "./plugins-api.ts";
import { deleteWithConfirm } from "./service-parts.ts";

/**
 * The dashboard's Plugins section (docs/plugins.md, "In the UI"): install a plugin from its
 * bundle (one .js file, `npm run plugin:bundle`) with the hosts its fetch may reach; the installed
 * plugins, each with what it does, Enable or Disable for the instance, its versions with a
 * rollback to any of them, a new version's upload, and Delete after a confirmation. The server's
 * refusals (a bundle it cannot load, a wrong id, a version it has) show above the list.
 */
export function pluginsSection(ctx: AppContext): View {
  const section = new PluginsSection(apiScope(ctx, adminPluginsCalls));
  return { el: section.el, dispose() {} };
}

class PluginsSection {
  readonly el: HTMLElement;
  readonly #scope: ApiScope<AdminPluginsCalls>;
  readonly #list = h("ul", { class: "plugin-list", "data-testid": "admin-plugins" });
  readonly #empty = h("p", { class: "hint", hidden: true }, "No plugin is installed.");
  readonly #status = h("p", { class: "hint", role: "status", "data-testid": "plugins-status" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "plugins-error",
    hidden: true,
  });
  readonly #file = h("input", {
    id: "plugin-file",
    type: "file",
    accept: ".js,.mjs,text/javascript",
    required: true,
    "data-testid": "plugin-file",
  });
  readonly #id = h("input", {
    id: "plugin-id",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 40,
    pattern: "[a-z][a-z0-9\\-]{1,39}",
    placeholder: "poll",
    "data-testid": "plugin-id",
  });
  readonly #hosts = h("input", {
    id: "plugin-hosts",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "none: no network",
    "data-testid": "plugin-hosts",
    "aria-describedby": "plugin-hosts-hint",
  });
  readonly #install = h("button", { type: "submit", "data-testid": "plugin-install" }, "Install");

  constructor(scope: ApiScope<AdminPluginsCalls>) {
    this.#scope = scope;
    this.#file.addEventListener("change", () => {
      const file = this.#file.files?.[0];
      if (file && !this.#id.value) this.#id.value = idFromFileName(file.name);
    });
    this.el = h(
      "div",
      { class: "admin-section" },
      h(
        "section",
        { class: "card services plugins", "aria-labelledby": "plugins-title" },
        h("h2", { id: "plugins-title" }, "Plugins"),
        h(
          "p",
          { class: "hint" },
          "A plugin is one bundled ES module (npm run plugin:bundle -- plugins/<name>). It runs " +
            "in a sandbox per room, with no network but the hosts granted here; rooms' owners " +
            "turn it on for their rooms once it is enabled here.",
        ),
        this.#form(),
        this.#status,
        this.#error,
        this.#empty,
        this.#list,
        h(
          "button",
          { type: "button", "data-testid": "plugins-refresh", on: { click: () => this.#reload() } },
          "Refresh",
        ),
      ),
    );
    this.#reload();
  }

  #form(): HTMLFormElement {
    return h(
      "form",
      {
        class: "service-form plugin-form",
        "aria-label": "Install a plugin",
        novalidate: true,
        on: {
          submit: (event) => {
            event.preventDefault();
            void this.#installChosen();
          },
        },
      },
      h("h3", {}, "Install a plugin or a new version"),
      h("div", { class: "row" }, h("label", { for: this.#file.id }, "Bundle"), this.#file),
      h("div", { class: "row" }, h("label", { for: this.#id.id }, "Id"), this.#id),
      h("div", { class: "row" }, h("label", { for: this.#hosts.id }, "Hosts"), this.#hosts),
      h(
        "p",
        { class: "hint", id: "plugin-hosts-hint" },
        "Hosts its fetch may reach, separated by commas (api.example.com); empty: no network at all.",
      ),
      this.#install,
    );
  }

  #reload(): void {
    this.#load().catch((error: unknown) => this.#fail(error, "Could not load the plugins: "));
  }

  async #load(): Promise<void> {
    const plugins = await this.#scope.call((calls) => calls.list());
    replace(this.#list, ...plugins.map((plugin) => this.#card(plugin)));
    this.#empty.hidden = plugins.length > 0;
  }

  async #installChosen(): Promise<void> {
    const file = this.#file.files?.[0];
    const id = this.#id.value.trim();
    if (!file) return this.#problem("Choose the plugin's bundle.", this.#file);
    const problem = bundleProblem(file);
    if (problem) return this.#problem(problem, this.#file);
    if (!id) return this.#problem("Give the plugin's id, as its definition says it.", this.#id);
    this.#install.disabled = true;
    const done = await this.#change(
      async (calls) => calls.install(id, await file.text(), hostsOf(this.#hosts.value)),
      `Plugin ${id} installed.`,
    );
    this.#install.disabled = false;
    if (done) {
      this.#file.value = "";
      this.#id.value = "";
      this.#hosts.value = "";
    }
  }

  #card(plugin: InstalledPluginDetail): HTMLLIElement {
    const { manifest } = plugin;
    const id = manifest.id;
    const versions = newestFirst(plugin.versions);
    return h(
      "li",
      {
        class: "plugin",
        "data-plugin": id,
        "data-testid": "admin-plugin",
        "data-enabled": String(plugin.enabled),
      },
      h(
        "div",
        { class: "rule-head" },
        h("h3", {}, id, h("span", { class: "hint" }, ` ${plugin.current}`)),
        h(
          "span",
          {
            class: `badge ${plugin.enabled ? "ok" : "muted"}`,
            "data-testid": "admin-plugin-state",
          },
          plugin.enabled ? "enabled" : "disabled",
        ),
      ),
      manifest.description ? h("p", {}, manifest.description) : null,
      h("p", { class: "hint" }, hooksText(manifest), " It ", hostsText(plugin.hosts), "."),
      h(
        "ul",
        { class: "plugin-versions", "aria-label": `Versions of ${id}` },
        ...versions.map((v) =>
          h(
            "li",
            { "data-version": v.version, "data-testid": "admin-plugin-version" },
            h("span", { class: "mono" }, v.version),
            h(
              "span",
              { class: "hint" },
              ` ${new Date(v.installedAt).toLocaleString()} by ${v.installedBy.name}, ` +
                `${Math.ceil(v.codeBytes / 1024)} KiB, ${grantText(v.hosts)}`,
            ),
            v.version === plugin.current
              ? h("span", { class: "badge" }, "current")
              : h(
                  "button",
                  {
                    type: "button",
                    "data-testid": "admin-plugin-use",
                    on: {
                      click: () =>
                        void this.#change(
                          (calls) => calls.update(id, { version: v.version }),
                          `${id} now runs ${v.version}.`,
                        ),
                    },
                  },
                  `Use ${v.version}`,
                ),
          ),
        ),
      ),
      h(
        "div",
        { class: "row plugin-actions" },
        h(
          "button",
          {
            type: "button",
            class: plugin.enabled ? "danger" : undefined,
            "data-testid": plugin.enabled ? "admin-plugin-disable" : "admin-plugin-enable",
            on: {
              click: () =>
                void this.#change(
                  (calls) => calls.update(id, { enabled: !plugin.enabled }),
                  `${id} ${plugin.enabled ? "disabled: no room runs it" : "enabled: rooms' owners may turn it on"}.`,
                ),
            },
          },
          plugin.enabled ? "Disable" : "Enable",
        ),
        h(
          "button",
          {
            type: "button",
            "data-testid": "admin-plugin-upgrade",
            on: { click: () => this.#upgrade(id) },
          },
          "New version",
        ),
        deleteWithConfirm(
          id,
          () => void this.#change((calls) => calls.remove(id), `${id} deleted.`),
          "Every room stops running it, and its versions go.",
        ),
      ),
    );
  }

  /** A new version of `id`: the install form takes the id, the focus goes to its file. */
  #upgrade(id: string): void {
    this.#id.value = id;
    this.#file.focus();
  }

  async #change(run: (calls: AdminPluginsCalls) => Promise<unknown>, done: string) {
    this.#error.hidden = true;
    this.#status.textContent = "";
    try {
      await this.#scope.call(run);
      this.#status.textContent = done;
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    } finally {
      await this.#load().catch(() => undefined);
    }
  }

  #problem(message: string, focus: HTMLElement): void {
    this.#error.textContent = message;
    this.#error.hidden = false;
    focus.focus();
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}
