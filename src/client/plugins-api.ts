import type * as z from "zod";
import {
  AvailablePlugins,
  InstalledPluginDetail,
  PluginList,
  PluginOutcome,
  Posted,
  type InstallPlugin,
  type TryPlugin,
  type UpdatePlugin,
} from "../protocol/index.ts";
import { RoomPluginList } from "../protocol/rules.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * The instance's plugins, for its admins (`api.admin.plugins`, docs/plugins.md): install a
 * version (one bundled ES module), list them, turn one on or off, roll it back to a kept version,
 * remove it, and try one hook call in a room's sandbox. Anyone else gets 403 `forbidden`.
 * @example
 * await api.admin.plugins.install("unfurl", { code, hosts: ["api.example.com"] });
 * const { outcome } = await api.admin.plugins.try("unfurl", { hook: "beforeCommit", room: "lobby", text: "hi" });
 */
export class AdminPluginsApi {
  readonly #requests: ApiRequests;
  constructor(requests: ApiRequests) {
    this.#requests = requests;
  }

  /** Every installed plugin, with its current version's manifest and granted hosts. */
  list() {
    return this.#requests.call(PluginList, "GET", "/api/admin/plugins");
  }

  /** One plugin and every version kept, newest first. */
  get(id: string) {
    return this.#requests.call(InstalledPluginDetail, "GET", this.#one(id));
  }

  /**
   * Installs a new version (it becomes current): `code` is one bundled ES module of at most
   * 1 MiB, `hosts` the hosts its fetch may reach (each one it asks for; none by default).
   */
  install(id: string, input: z.input<typeof InstallPlugin>) {
    return this.#requests.call(InstalledPluginDetail, "PUT", this.#one(id), input);
  }

  update(id: string, patch: UpdatePlugin) {
    return this.#requests.call(InstalledPluginDetail, "PATCH", this.#one(id), patch);
  }

  /** Off: no room runs it, whatever the room says. */
  setEnabled(id: string, enabled: boolean) {
    return this.update(id, { enabled });
  }

  /** Makes a kept version current again. */
  rollback(id: string, version: string) {
    return this.update(id, { version });
  }

  /** Removes it and every version; answers it as it was. */
  remove(id: string) {
    return this.#requests.call(InstalledPluginDetail, "DELETE", this.#one(id));
  }

  /** Runs one hook call for real in a room's sandbox and answers what became of it. */
  try(id: string, input: z.input<typeof TryPlugin>) {
    return this.#requests.call(PluginOutcome, "POST", `${this.#one(id)}/try`, input);
  }

  #one(id: string): string {
    return `/api/admin/plugins/${encodeURIComponent(id)}`;
  }
}

/** What any signed-in user may see of the plugins: those rooms may turn on, with their commands. */
export function availablePlugins(requests: ApiRequests) {
  return requests.call(AvailablePlugins, "GET", "/api/plugins");
}

/**
 * A room's plugins (`api.roomPlugins(room)`, docs/plugins.md): which are on there, for anyone who
 * may see the room, and turning one on or off, for its owner and admins (a `plugin.enabled` or
 * `plugin.disabled` event in its log).
 * @example await api.roomPlugins("lobby").set("poll", true);
 */
export class RoomPluginsApi {
  readonly #requests: ApiRequests;
  readonly #base: string;
  constructor(requests: ApiRequests, room: string) {
    this.#requests = requests;
    this.#base = `/api/rooms/${encodeURIComponent(room)}/plugins`;
  }

  list() {
    return this.#requests.call(RoomPluginList, "GET", this.#base);
  }

  /** Turns plugin `id` on (404 when not installed, 409 when off for the instance) or off. */
  set(id: string, enabled: boolean) {
    return this.#requests.call(Posted, "PUT", `${this.#base}/${encodeURIComponent(id)}`, {
      enabled,
    });
  }
}
