import * as z from "zod";
import { PluginManifest, RoomPluginState, type EdgechatApi } from "../../client/index.ts";
import { ApiRequests } from "../../client/requests.ts";

/**
 * The room's Plugins panel's calls, in one place until the SDK's `api.plugins` lands: the
 * instance's installed and enabled plugins (anyone signed in), which of them this room runs, and
 * the owner's switch (docs/plugins.md).
 */
export type RoomPluginsCalls = {
  /** The plugins an admin installed and enabled for the instance: what a room may turn on. */
  available(): Promise<PluginManifest[]>;
  /** This room's choices; a plugin it never chose is off. */
  states(): Promise<RoomPluginState[]>;
  setEnabled(plugin: string, enabled: boolean): Promise<void>;
};

export type RoomPluginState = z.infer<typeof RoomPluginState>;

const ManifestList = z.object({ plugins: z.array(PluginManifest) });
const StateList = z.object({ plugins: z.array(RoomPluginState) });

export function roomPluginsCalls(api: EdgechatApi, room: string): RoomPluginsCalls {
  const requests = new ApiRequests(api.baseUrl, api.token);
  const base = `/api/rooms/${encodeURIComponent(room)}/plugins`;
  return {
    available: async () => (await requests.call(ManifestList, "GET", "/api/plugins")).plugins,
    states: async () => (await requests.call(StateList, "GET", base)).plugins,
    setEnabled: (plugin, enabled) =>
      requests.send("PUT", `${base}/${encodeURIComponent(plugin)}`, { enabled }),
  };
}
