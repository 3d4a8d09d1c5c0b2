import * as z from "zod";
import { PluginCommandName, PluginId, PluginManifest, PluginVersion } from "./automation.ts";
import { MessageText, RoomName, Seq, UserRef } from "./names.ts";

/**
 * Additions: the wire types of the plugin registry (docs/plugins.md, "Install and versions"):
 * what an admin sends to install a plugin, what the instance answers about installed plugins,
 * and what a signed-in user may see of them. The manifest and its parts are automation.ts's.
 */

/** The largest plugin module taken (one bundled ES module, UTF-8). */
export const MAX_PLUGIN_CODE_BYTES = 1024 * 1024;

/** The body of `PUT /api/admin/plugins/{id}`. */
export const InstallPlugin = z.object({
  /** One bundled ES module whose default export is `definePlugin({...})`; nothing imported. */
  code: z.string().min(1, "code is one ES module"),
  /** Hosts its fetch may reach: each one the plugin asks for (its `hosts`); none by default. */
  hosts: z.array(z.string().min(1).max(253)).max(10).default([]),
});
export type InstallPlugin = z.infer<typeof InstallPlugin>;

export const PluginVersionInfo = z.object({
  version: PluginVersion,
  manifest: PluginManifest,
  /** The hosts granted to this version. */
  hosts: z.array(z.string()),
  /** The uploaded module's size, before metering. */
  codeBytes: z.number().int(),
  installedAt: z.number(),
  installedBy: UserRef,
});
export type PluginVersionInfo = z.infer<typeof PluginVersionInfo>;

/** An installed plugin: its current version's manifest and grant, and whether the instance runs it. */
export const InstalledPlugin = z.object({
  id: PluginId,
  /** Off: no room runs it, whatever the room says. */
  enabled: z.boolean(),
  current: PluginVersion,
  manifest: PluginManifest,
  hosts: z.array(z.string()),
  installedAt: z.number(),
  updatedAt: z.number(),
});
export type InstalledPlugin = z.infer<typeof InstalledPlugin>;

export const InstalledPluginDetail = InstalledPlugin.extend({
  /** Every version kept, newest first. */
  versions: z.array(PluginVersionInfo),
});
export type InstalledPluginDetail = z.infer<typeof InstalledPluginDetail>;

export const PluginList = z.object({ plugins: z.array(InstalledPlugin) });

/** The body of `PATCH /api/admin/plugins/{id}`: turn it on or off, or make a kept version current. */
export const UpdatePlugin = z
  .object({ enabled: z.boolean().optional(), version: PluginVersion.optional() })
  .refine((patch) => patch.enabled !== undefined || patch.version !== undefined, {
    message: "name enabled or version",
  });
export type UpdatePlugin = z.infer<typeof UpdatePlugin>;

/** `GET /api/plugins`: what rooms may turn on, and the commands they bring. */
export const AvailablePlugins = z.object({ plugins: z.array(PluginManifest) });

/** The body of `POST /api/admin/plugins/{id}/try`: one hook call, for real, in a room's sandbox. */
export const TryPlugin = z.discriminatedUnion("hook", [
  z.object({
    hook: z.literal("beforeCommit"),
    room: RoomName,
    version: PluginVersion.optional(),
    kind: z.enum(["post", "edit"]).default("post"),
    text: MessageText,
  }),
  z.object({
    hook: z.literal("afterEvent"),
    room: RoomName,
    version: PluginVersion.optional(),
    /** The event's seq, as if the room had logged it (1 when absent). */
    seq: Seq.default(1),
    type: z.string().min(1).max(64),
    data: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({
    hook: z.literal("command"),
    room: RoomName,
    version: PluginVersion.optional(),
    command: PluginCommandName,
    args: z.string().max(1000).default(""),
  }),
  z.object({
    hook: z.literal("job"),
    room: RoomName,
    version: PluginVersion.optional(),
    job: PluginCommandName,
  }),
]);
export type TryPlugin = z.infer<typeof TryPlugin>;

/** What became of one hook call (docs/plugins.md, "Outcomes"). */
export const PluginOutcome = z.object({
  outcome: z.enum(["ok", "refused-by-limit", "timeout", "threw", "suspended"]),
  /** The plugin's answer, checked (ok only). */
  value: z.unknown().optional(),
  /** What went wrong (all but ok). */
  message: z.string().optional(),
  ms: z.number(),
});
export type PluginOutcome = z.infer<typeof PluginOutcome>;
