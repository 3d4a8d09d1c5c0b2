import type { EdgechatApi, InstalledPluginDetail } from "../../client/index.ts";

/**
 * The dashboard's Plugins calls, on the SDK's `api.admin.plugins` (docs/plugins.md, "Install and
 * versions"): the installed plugins each with its versions, install (a bundled module and the
 * hosts granted), enable or disable for the instance, roll back, delete. Admins only.
 */
export type AdminPluginsCalls = {
  /** Every installed plugin with every version kept (one call for the list, one per plugin). */
  list(): Promise<InstalledPluginDetail[]>;
  install(id: string, code: string, hosts: string[]): Promise<unknown>;
  update(id: string, patch: { enabled?: boolean; version?: string }): Promise<unknown>;
  remove(id: string): Promise<void>;
};

export function adminPluginsCalls(api: EdgechatApi): AdminPluginsCalls {
  const plugins = api.admin.plugins;
  return {
    list: async () => {
      const { plugins: installed } = await plugins.list();
      return Promise.all(installed.map((plugin) => plugins.get(plugin.id)));
    },
    install: (id, code, hosts) => plugins.install(id, { code, hosts }),
    update: (id, patch) => plugins.update(id, patch),
    remove: async (id) => void (await plugins.remove(id)),
  };
}
