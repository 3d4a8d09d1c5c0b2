import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import type { StoreBinding } from "./sandbox/contract.ts";
import {
  keyProblem,
  putProblem,
  STORE_LIMITS,
  storageName,
  type StoreUsage,
} from "./store-rules.ts";

/**
 * A plugin's key-value store (docs/plugins.md, "Store"): the capability a sandbox gets as
 * `env.STORE`, made by the runner with `ctx.exports.PluginStore({ props: { plugin, room } })`,
 * so that a plugin reaches its own store in its own room and nothing else; and the
 * PluginStorage object (one per plugin per room, `<plugin>/<room>`) that keeps it. Errors are
 * thrown: over RPC the plugin's `await store.put(…)` rejects with the same message.
 */

export type StoreProps = { plugin: string; room: string };

export class PluginStore extends WorkerEntrypoint<Env, StoreProps> implements StoreBinding {
  #storage() {
    const { plugin, room } = this.ctx.props;
    return this.env.PLUGIN_STORAGE.getByName(storageName(plugin, room));
  }

  async get(key: string): Promise<string | null> {
    checkKey(key);
    return this.#storage().get(key);
  }

  async put(key: string, value: string): Promise<void> {
    checkKey(key);
    await this.#storage().put(key, value);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#storage().delete(key);
  }

  async list(prefix: string): Promise<{ key: string; value: string }[]> {
    if (typeof prefix !== "string") throw new TypeError("store: a prefix is a string");
    return this.#storage().list(prefix);
  }
}

function checkKey(key: unknown): void {
  const problem = keyProblem(key);
  if (problem) throw new RangeError(`store: ${problem}`);
}

/** One plugin's store in one room. Thin: the limits are store-rules.ts's. */
export class PluginStorage extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, bytes INTEGER NOT NULL)",
    );
  }

  get(key: string): string | null {
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM entries WHERE key = ?", key);
    return row.toArray()[0]?.value ?? null;
  }

  put(key: string, value: string): void {
    const usage = this.#usage(
      "SELECT count(*) AS keys, coalesce(sum(bytes), 0) AS bytes FROM entries",
    );
    const replacing = this.#usage(
      "SELECT count(*) AS keys, coalesce(sum(bytes), 0) AS bytes FROM entries WHERE key = ?",
      key,
    );
    const problem = putProblem(usage, { key, value, replacing });
    if (problem) throw new RangeError(`store: ${problem}`);
    const bytes = new TextEncoder().encode(key + value).byteLength;
    this.#sql.exec(
      "INSERT INTO entries (key, value, bytes) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, bytes = excluded.bytes",
      key,
      value,
      bytes,
    );
  }

  delete(key: string): void {
    this.#sql.exec("DELETE FROM entries WHERE key = ?", key);
  }

  list(prefix: string): { key: string; value: string }[] {
    return this.#sql
      .exec<{ key: string; value: string }>(
        "SELECT key, value FROM entries WHERE substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?",
        prefix,
        prefix,
        STORE_LIMITS.listRows,
      )
      .toArray()
      .map(({ key, value }: { key: string; value: string }) => ({ key, value }));
  }

  #usage(query: string, ...bindings: string[]): StoreUsage {
    const row = this.#sql.exec<StoreUsage>(query, ...bindings).one();
    return { keys: Number(row.keys), bytes: Number(row.bytes) };
  }
}
