import { DurableObject } from "cloudflare:workers";
import type {
  InstalledPlugin,
  InstalledPluginDetail,
  PluginVersionInfo,
  Result,
  UpdatePlugin,
  UserRef,
} from "../protocol/index.ts";
import type { PluginManifest } from "../protocol/automation.ts";
import type { PreparedPlugin } from "./registry.ts";
import type { PluginRef } from "./runner.ts";

/** The registry's one object. */
export const REGISTRY_NAME = "instance";

/** An enabled plugin as rooms run it: its current version and grant, and its manifest. */
export type ActivePlugin = { ref: PluginRef; manifest: PluginManifest };

type PluginRow = {
  id: string;
  current: string;
  enabled: number;
  installed_at: number;
  updated_at: number;
};
type VersionRow = {
  version: string;
  manifest: string;
  hosts: string;
  code_bytes: number;
  installed_at: number;
  installed_by: string;
};

const notFound = (message: string) =>
  ({ ok: false, error: { code: "not_found", message } }) as const;

/**
 * The installed plugins of the instance (docs/plugins.md, "Install and versions"): every
 * version's instrumented code, manifest and granted hosts, which version is current, and whether
 * the instance runs the plugin at all. Thin: what a version must be to get here is registry.ts's.
 */
export class PluginRegistry extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS plugins (
      id TEXT PRIMARY KEY, current TEXT NOT NULL, enabled INTEGER NOT NULL,
      installed_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS versions (
      plugin TEXT NOT NULL, version TEXT NOT NULL, code TEXT NOT NULL, manifest TEXT NOT NULL,
      hosts TEXT NOT NULL, code_bytes INTEGER NOT NULL, installed_at INTEGER NOT NULL,
      installed_by TEXT NOT NULL, PRIMARY KEY (plugin, version))`);
  }

  /** A new version, made current; a new plugin starts enabled. Conflict for a version it has. */
  install(prepared: PreparedPlugin, by: UserRef, at: number): Result<InstalledPluginDetail> {
    const { manifest } = prepared;
    if (this.#version(manifest.id, manifest.version)) {
      return {
        ok: false,
        error: {
          code: "conflict",
          message: `version ${manifest.version} of ${manifest.id} is installed already: install a new version`,
        },
      };
    }
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        manifest.id,
        manifest.version,
        prepared.code,
        JSON.stringify(manifest),
        JSON.stringify(prepared.hosts),
        prepared.codeBytes,
        at,
        JSON.stringify({ id: by.id, name: by.name }),
      );
      this.#sql.exec(
        `INSERT INTO plugins VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET current = excluded.current, updated_at = excluded.updated_at`,
        manifest.id,
        manifest.version,
        at,
        at,
      );
    });
    return { ok: true, value: this.#detail(manifest.id)! };
  }

  list(): InstalledPlugin[] {
    return this.#plugins().map((row) => this.#summary(row));
  }

  get(id: string): Result<InstalledPluginDetail> {
    const detail = this.#detail(id);
    return detail ? { ok: true, value: detail } : notFound(`no plugin ${id} is installed`);
  }

  /** Turns the plugin on or off for the instance, or makes a kept version current (a rollback). */
  update(id: string, patch: UpdatePlugin, at: number): Result<InstalledPluginDetail> {
    const row = this.#plugin(id);
    if (!row) return notFound(`no plugin ${id} is installed`);
    if (patch.version !== undefined && !this.#version(id, patch.version)) {
      return notFound(`${id} has no version ${patch.version}`);
    }
    this.#sql.exec(
      "UPDATE plugins SET current = ?, enabled = ?, updated_at = ? WHERE id = ?",
      patch.version ?? row.current,
      patch.enabled === undefined ? row.enabled : Number(patch.enabled),
      at,
      id,
    );
    return { ok: true, value: this.#detail(id)! };
  }

  /** Removes the plugin and every version; answers it as it was. */
  remove(id: string): Result<InstalledPluginDetail> {
    const detail = this.#detail(id);
    if (!detail) return notFound(`no plugin ${id} is installed`);
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM versions WHERE plugin = ?", id);
      this.#sql.exec("DELETE FROM plugins WHERE id = ?", id);
    });
    return { ok: true, value: detail };
  }

  /** The enabled plugins, each at its current version: what rooms may run. */
  active(): ActivePlugin[] {
    return this.#plugins()
      .filter((row) => row.enabled === 1)
      .map((row) => {
        const version = this.#version(row.id, row.current)!;
        return {
          ref: { id: row.id, version: row.current, hosts: JSON.parse(version.hosts) as string[] },
          manifest: JSON.parse(version.manifest) as PluginManifest,
        };
      });
  }

  /** One version's instrumented code and grant (null when it is gone), for a sandbox to load. */
  code(id: string, version: string): { code: string; hosts: string[] } | null {
    const row = this.#sql
      .exec<{ code: string; hosts: string }>(
        "SELECT code, hosts FROM versions WHERE plugin = ? AND version = ?",
        id,
        version,
      )
      .toArray()[0];
    return row ? { code: row.code, hosts: JSON.parse(row.hosts) as string[] } : null;
  }

  #plugins(): PluginRow[] {
    return this.#sql.exec<PluginRow>("SELECT * FROM plugins ORDER BY id").toArray();
  }

  #plugin(id: string): PluginRow | undefined {
    return this.#sql.exec<PluginRow>("SELECT * FROM plugins WHERE id = ?", id).toArray()[0];
  }

  #version(id: string, version: string): VersionRow | undefined {
    return this.#sql
      .exec<VersionRow>(
        "SELECT version, manifest, hosts, code_bytes, installed_at, installed_by FROM versions WHERE plugin = ? AND version = ?",
        id,
        version,
      )
      .toArray()[0];
  }

  #summary(row: PluginRow): InstalledPlugin {
    const current = this.#version(row.id, row.current)!;
    return {
      id: row.id,
      enabled: row.enabled === 1,
      current: row.current,
      manifest: JSON.parse(current.manifest) as PluginManifest,
      hosts: JSON.parse(current.hosts) as string[],
      installedAt: row.installed_at,
      updatedAt: row.updated_at,
    };
  }

  #detail(id: string): InstalledPluginDetail | undefined {
    const row = this.#plugin(id);
    if (!row) return undefined;
    const versions = this.#sql
      .exec<VersionRow>(
        `SELECT version, manifest, hosts, code_bytes, installed_at, installed_by FROM versions
         WHERE plugin = ? ORDER BY installed_at DESC, rowid DESC`,
        id,
      )
      .toArray()
      .map(versionInfo);
    return { ...this.#summary(row), versions };
  }
}

function versionInfo(row: VersionRow): PluginVersionInfo {
  return {
    version: row.version,
    manifest: JSON.parse(row.manifest) as PluginManifest,
    hosts: JSON.parse(row.hosts) as string[],
    codeBytes: row.code_bytes,
    installedAt: row.installed_at,
    installedBy: JSON.parse(row.installed_by) as UserRef,
  };
}

/** The registry's object. */
export const registryOf = (env: Env) => env.PLUGIN_REGISTRY.getByName(REGISTRY_NAME);

/** A runner's source of code: each version's instrumented module, from the registry. */
export function pluginCode(env: Env): (ref: PluginRef) => Promise<string> {
  return async (ref) => {
    const found = await registryOf(env).code(ref.id, ref.version);
    if (!found) throw new Error(`${ref.id}@${ref.version} is not installed`);
    return found.code;
  };
}
