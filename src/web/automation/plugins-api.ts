import type { EdgechatApi, PluginManifest } from "../../client/index.ts";

/**
 * The room's Plugins panel's calls, on the SDK (`api.plugins()`, `api.roomPlugins(room)`,
 * docs/plugins.md): the plugins the instance runs (anyone signed in), which of them this room
 * runs, and the owner's switch.
 */
export type RoomPluginState = { plugin: string; enabled: boolean };

export type RoomPluginsCalls = {
  /** The plugins an admin installed and enabled for the instance: what a room may turn on. */
  available(): Promise<PluginManifest[]>;
  /** This room's choices; a plugin it never chose is off. */
  states(): Promise<RoomPluginState[]>;
  setEnabled(plugin: string, enabled: boolean): Promise<void>;
};

export function roomPluginsCalls(api: EdgechatApi, room: string): RoomPluginsCalls {
  const mine = api.roomPlugins(room);
  return {
    available: async () => (await api.plugins()).plugins,
    states: async () => (await mine.list()).plugins,
    setEnabled: async (plugin, enabled) => void (await mine.set(plugin, enabled)),
  };
}
