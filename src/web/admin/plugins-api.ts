import * as z from "zod";
import { PluginManifest, PluginVersion, type EdgechatApi } from "../../client/index.ts";
import { ApiRequests } from "../../client/requests.ts";

/**
 * The dashboard's Plugins calls, in one place until the SDK's `api.admin.plugins` lands: the
 * installed plugins with their versions, install (a bundled module and the hosts granted),
 * enable or disable for the instance, roll back, delete (docs/plugins.md). Admins only.
 */
export const InstalledVersion = z.object({
  version: PluginVersion,
  installedAt: z.number().optional(),
  hosts: z.array(z.string()).optional(),
});
export const InstalledPlugin = z.object({
  manifest: PluginManifest,
  enabled: z.boolean(),
  current: PluginVersion,
  versions: z.array(InstalledVersion),
});
export type InstalledPlugin = z.infer<typeof InstalledPlugin>;

export type AdminPluginsCalls = {
  list(): Promise<InstalledPlugin[]>;
  install(id: string, code: string, hosts: string[]): Promise<unknown>;
  update(id: string, patch: { enabled?: boolean; version?: string }): Promise<unknown>;
  remove(id: string): Promise<void>;
};

const PluginList = z.object({ plugins: z.array(InstalledPlugin) });

export function adminPluginsCalls(api: EdgechatApi): AdminPluginsCalls {
  const requests = new ApiRequests(api.baseUrl, api.token);
  const one = (id: string) => `/api/admin/plugins/${encodeURIComponent(id)}`;
  return {
    list: async () => (await requests.call(PluginList, "GET", "/api/admin/plugins")).plugins,
    install: (id, code, hosts) => requests.fetch("PUT", one(id), { code, hosts }),
    update: (id, patch) => requests.fetch("PATCH", one(id), patch),
    remove: (id) => requests.send("DELETE", one(id)),
  };
}
