import { createRoute, z } from "@hono/zod-openapi";
import { exports } from "cloudflare:workers";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { PluginId } from "../protocol/automation.ts";
import {
  AvailablePlugins,
  InstalledPluginDetail,
  InstallPlugin,
  MAX_PLUGIN_CODE_BYTES,
  PluginList,
  PluginOutcome,
  TryPlugin,
  UpdatePlugin,
  Posted,
  refusal,
  RoomParam,
  type AuditAction,
  type AuditData,
} from "../protocol/index.ts";
import type { Outcome } from "../plugins/outcomes.ts";
import { preparePlugin } from "../plugins/registry.ts";
import { pluginCode, registryOf } from "../plugins/registry-object.ts";
import { PluginRunner, type SandboxExports } from "../plugins/runner.ts";
import { recordAudit } from "./audit-log.ts";
import { traceparentIn } from "../telemetry/tracing.ts";

/**
 * Plugins (docs/plugins.md): installing, listing, switching and removing them, for instance
 * admins at `/api/admin/plugins` (mounted by admin.ts behind its admins-only middleware), one
 * hook call tried for real in a room's sandbox, and what any signed-in user may see of them at
 * `/api/plugins`.
 */
export const adminPlugins = router();
export const plugins = router();

export const PLUGINS_BASE = "/api/admin/plugins";
/** Above the API's 64 KiB: a module of MAX_PLUGIN_CODE_BYTES, escaped in JSON. */
export const PLUGIN_INSTALL_MAX_BYTES = 2 * MAX_PLUGIN_CODE_BYTES + 64 * 1024;

/** Whether a request is an install, which has a body limit of its own (app.ts). */
export const isPluginInstall = (method: string, path: string) =>
  method === "PUT" && path.startsWith(`${PLUGINS_BASE}/`);

const One = z.object({ id: PluginId });
const RoomPluginSwitch = z.object({ enabled: z.boolean() });

function record(c: Context<AppEnv>, action: AuditAction, data: AuditData): void {
  recordAudit(c, { action, actor: c.var.user, data });
}

adminPlugins.openapi(
  createRoute({
    method: "put",
    path: `${PLUGINS_BASE}/{id}`,
    summary: "Install a plugin version",
    description:
      "`code` is one bundled ES module (at most 1 MiB, nothing imported) whose default export is " +
      "`definePlugin({...})`. It is metered (a fuel guard in every loop and function), loaded once " +
      "in a sandbox of its own to read its definition, and checked: the id must be `{id}`, the " +
      "version one not installed yet. `hosts` grants its fetch the hosts it asks for (none by " +
      "default: no network). The new version becomes current; a new plugin starts enabled.",
    security: bearer,
    middleware: [
      bodyLimit({
        maxSize: PLUGIN_INSTALL_MAX_BYTES,
        onError: () => {
          throw new ApiError("too_large", `code is at most ${MAX_PLUGIN_CODE_BYTES} bytes`);
        },
      }),
    ] as const,
    request: { params: One, ...jsonBody(InstallPlugin) },
    responses: {
      201: json(InstalledPluginDetail, "installed: the plugin with every version"),
      ...errors("bad_request", "unauthorized", "forbidden", "conflict", "too_large"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const prepared = unwrap(
      await preparePlugin(id, c.req.valid("json"), {
        loader: c.env.LOADER,
        allowLoopback: settings(c).WEBHOOK_ALLOW_LOOPBACK,
      }),
    );
    const by = { id: c.var.user.id, name: c.var.user.name };
    const installed = unwrap(await registryOf(c.env).install(prepared, by, Date.now()));
    record(c, "plugin.installed", {
      plugin: id,
      version: prepared.manifest.version,
      hosts: prepared.hosts.join(","),
    });
    return c.json(installed, 201);
  },
);

adminPlugins.openapi(
  createRoute({
    method: "get",
    path: PLUGINS_BASE,
    summary: "The installed plugins",
    description: "Each with its current version's manifest and granted hosts, by id.",
    security: bearer,
    responses: {
      200: json(PluginList, "the plugins"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => c.json({ plugins: await registryOf(c.env).list() }, 200),
);

adminPlugins.openapi(
  createRoute({
    method: "get",
    path: `${PLUGINS_BASE}/{id}`,
    summary: "One installed plugin and every version kept",
    security: bearer,
    request: { params: One },
    responses: {
      200: json(InstalledPluginDetail, "the plugin, versions newest first"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => c.json(unwrap(await registryOf(c.env).get(c.req.valid("param").id)), 200),
);

adminPlugins.openapi(
  createRoute({
    method: "patch",
    path: `${PLUGINS_BASE}/{id}`,
    summary: "Turn a plugin on or off, or roll it back to a kept version",
    description:
      "`enabled: false` stops every room from running it; `version` makes a kept version " +
      "current (rooms load it at their next call).",
    security: bearer,
    request: { params: One, ...jsonBody(UpdatePlugin) },
    responses: {
      200: json(InstalledPluginDetail, "the plugin"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const before = unwrap(await registryOf(c.env).get(id));
    const after = unwrap(await registryOf(c.env).update(id, patch, Date.now()));
    if (after.enabled !== before.enabled) {
      record(c, after.enabled ? "plugin.enabled" : "plugin.disabled", { plugin: id });
    }
    if (after.current !== before.current) {
      record(c, "plugin.version_changed", {
        plugin: id,
        from: before.current,
        version: after.current,
      });
    }
    return c.json(after, 200);
  },
);

adminPlugins.openapi(
  createRoute({
    method: "delete",
    path: `${PLUGINS_BASE}/{id}`,
    summary: "Remove a plugin and every version",
    description: "Rooms stop running it at once. What it stored in rooms' stores is kept.",
    security: bearer,
    request: { params: One },
    responses: {
      200: json(InstalledPluginDetail, "the plugin as it was"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const removed = unwrap(await registryOf(c.env).remove(id));
    record(c, "plugin.deleted", { plugin: id, version: removed.current });
    return c.json(removed, 200);
  },
);

adminPlugins.openapi(
  createRoute({
    method: "post",
    path: `${PLUGINS_BASE}/{id}/try`,
    summary: "Try one hook call of a plugin in a room's sandbox",
    description:
      "Runs the hook for real, as the room would (its sandbox, its store, its limits and " +
      "wall-clock budget), with you as the author or caller, and answers what became of it: " +
      "`ok` with the plugin's checked answer, or `refused-by-limit`, `timeout`, `threw` with " +
      "why. Nothing is carried out: a verdict or actions are only shown. The room's own strikes " +
      "are not touched. Works on disabled plugins too; `version` picks a kept one.",
    security: bearer,
    request: { params: One, ...jsonBody(TryPlugin) },
    responses: {
      200: json(PluginOutcome, "what became of the call"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const plugin = unwrap(await registryOf(c.env).get(id));
    const version = input.version ?? plugin.current;
    const kept = plugin.versions.find((candidate) => candidate.version === version);
    if (!kept) throw new ApiError("not_found", `${id} has no version ${version}`);
    const runner = new PluginRunner({
      loader: c.env.LOADER,
      exports: exports as unknown as SandboxExports,
      room: input.room,
      code: pluginCode(c.env),
    });
    const ref = { id, version, hosts: kept.hosts };
    const person = { id: c.var.user.id, name: c.var.user.name };
    const outcome: Outcome<unknown> = await (() => {
      switch (input.hook) {
        case "beforeCommit":
          return runner.beforeCommit(ref, {
            kind: input.kind,
            text: input.text,
            author: person,
            room: input.room,
          });
        case "afterEvent":
          return runner.afterEvent(ref, {
            seq: input.seq,
            type: input.type,
            at: Date.now(),
            author: person,
            data: input.data,
          });
        case "command":
          return runner.command(ref, {
            command: input.command,
            args: input.args,
            user: person,
            room: input.room,
            rank: "admin",
          });
        case "job":
          return runner.job(ref, input.job);
      }
    })();
    return c.json(outcome, 200);
  },
);

plugins.openapi(
  createRoute({
    method: "get",
    path: "/api/plugins",
    summary: "The plugins rooms may turn on",
    description:
      "The manifest of each installed plugin the instance runs, at its current version: its " +
      "hooks, its slash commands, its jobs and the hosts it asks for.",
    ...signedIn,
    responses: {
      200: json(AvailablePlugins, "the plugins, by id"),
      ...errors("unauthorized"),
    },
  }),
  async (c) => {
    const active = await registryOf(c.env).active();
    return c.json({ plugins: active.map((plugin) => plugin.manifest) }, 200);
  },
);

plugins.openapi(
  createRoute({
    method: "put",
    path: "/api/rooms/{room}/plugins/{id}",
    summary: "Turn a plugin on or off in a room",
    description:
      "The room's owner (and admins) turn on a plugin the instance runs, or turn one off: a " +
      "`plugin.enabled` or `plugin.disabled` event in the room's log. Turning on a plugin that is " +
      "not installed is 404; one an admin turned off for the instance, 409. Answers the event's " +
      "seq (the room's current seq when nothing changed).",
    ...signedIn,
    request: { params: RoomParam.extend({ id: PluginId }), ...jsonBody(RoomPluginSwitch) },
    responses: {
      200: json(Posted, "the seq of the event"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    const { enabled } = c.req.valid("json");
    const stub = c.env.ROOM.getByName(room);
    const denied = refusal(unwrap(await stub.standing(c.var.user)), "manage_plugins");
    if (denied) throw ApiError.from(denied);
    if (enabled) {
      const installed = unwrap(await registryOf(c.env).get(id));
      if (!installed.enabled)
        throw new ApiError("conflict", `plugin ${id} is turned off for the instance by an admin`);
    }
    const command = {
      type: enabled ? ("enable_plugin" as const) : ("disable_plugin" as const),
      clientId: crypto.randomUUID(),
      plugin: id,
    };
    const traceparent = traceparentIn(c.var.telemetry.scope);
    return c.json(
      unwrap(await stub.command(command, c.var.user, traceparent, c.var.telemetry.requestId)),
      200,
    );
  },
);
