import type { PluginManifest } from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import type { ApiScope } from "../webhooks/scope.ts";
import { hooksText, hostsText, jobText } from "./plugin-rules.ts";
import type { RoomPluginsCalls } from "./plugins-api.ts";

/**
 * A room's plugins (docs/plugins.md, "In the UI"), for its owner and admins: every plugin the
 * instance's admins installed and turned on, with a switch that runs it in this room or not, what
 * it hooks into, its commands, its jobs and the hosts it may reach.
 */
export class RoomPluginsPanel {
  readonly el: HTMLElement;
  readonly #scope: ApiScope<RoomPluginsCalls>;
  readonly #room: string;
  readonly #list = h("ul", { class: "plugin-list", "data-testid": "room-plugins" });
  readonly #empty = h(
    "p",
    { class: "hint", hidden: true, "data-testid": "room-plugins-empty" },
    "No plugin is installed for this instance yet: an admin installs them in the dashboard.",
  );
  readonly #status = h("p", {
    class: "hint",
    role: "status",
    "data-testid": "room-plugins-status",
  });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "room-plugins-error",
    hidden: true,
  });
  /** Told after a switch: the rules' plugin commands change with it. */
  readonly #changed: () => void;

  constructor(scope: ApiScope<RoomPluginsCalls>, room: string, changed: () => void) {
    this.#scope = scope;
    this.#room = room;
    this.#changed = changed;
    this.el = h(
      "section",
      {
        class: "card room-plugins",
        "aria-labelledby": "room-plugins-title",
        "data-testid": "plugins",
      },
      h("h3", { id: "room-plugins-title" }, "Plugins"),
      h(
        "p",
        { class: "hint" },
        "A plugin runs in a sandbox of its own beside the room, with no network but the hosts " +
          "its admin granted. What it posts, it posts as its own bot.",
      ),
      this.#status,
      this.#error,
      this.#empty,
      this.#list,
    );
    this.reload();
  }

  reload(): void {
    this.#error.hidden = true;
    this.#load().catch((error: unknown) => this.#fail(error, "Could not load the plugins: "));
  }

  async #load(): Promise<void> {
    const [manifests, states] = await this.#scope.call((calls) =>
      Promise.all([calls.available(), calls.states()]),
    );
    const on = new Set(states.filter((s) => s.enabled).map((s) => s.plugin));
    const focused = (document.activeElement as HTMLElement | null)?.dataset.plugin;
    replace(this.#list, ...manifests.map((manifest) => this.#card(manifest, on.has(manifest.id))));
    this.#empty.hidden = manifests.length > 0;
    // A redraw after a switch keeps the focus on that switch.
    if (focused)
      this.#list.querySelector<HTMLElement>(`input[data-plugin="${CSS.escape(focused)}"]`)?.focus();
  }

  #card(manifest: PluginManifest, enabled: boolean): HTMLLIElement {
    const id = `room-plugin-${manifest.id}`;
    const toggle = h("input", {
      type: "checkbox",
      role: "switch",
      id,
      checked: enabled,
      "data-plugin": manifest.id,
      "data-testid": "room-plugin-toggle",
      on: { change: () => void this.#set(manifest.id, toggle.checked) },
    });
    return h(
      "li",
      {
        class: "plugin",
        "data-plugin": manifest.id,
        "data-testid": "room-plugin",
        "data-enabled": String(enabled),
      },
      h(
        "div",
        { class: "rule-head" },
        h("h4", {}, manifest.id, h("span", { class: "hint" }, ` ${manifest.version}`)),
        h("label", { class: "check switch", for: id }, toggle, ` On in #${this.#room}`),
      ),
      manifest.description ? h("p", {}, manifest.description) : null,
      h(
        "p",
        { class: "hint" },
        hooksText(manifest),
        " It ",
        hostsText(manifest.hosts, "asks to fetch from"),
        ".",
      ),
      manifest.commands.length
        ? h(
            "ul",
            { class: "plugin-commands", "aria-label": `Commands of ${manifest.id}` },
            ...manifest.commands.map((c) =>
              h("li", {}, h("code", {}, `/${c.name} ${c.usage}`.trim()), ` ${c.description}`),
            ),
          )
        : null,
      manifest.jobs.length
        ? h(
            "ul",
            { class: "plugin-jobs", "aria-label": `Jobs of ${manifest.id}` },
            ...manifest.jobs.map((job) => h("li", {}, jobText(job))),
          )
        : null,
    );
  }

  async #set(plugin: string, enabled: boolean): Promise<void> {
    this.#error.hidden = true;
    try {
      await this.#scope.call((calls) => calls.setEnabled(plugin, enabled));
      this.#status.textContent = `${plugin} is ${enabled ? "on" : "off"} in #${this.#room}.`;
      this.#changed();
    } catch (error) {
      this.#fail(error);
    } finally {
      await this.#load().catch(() => undefined);
    }
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}
