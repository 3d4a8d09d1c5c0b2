import { DurableObject } from "cloudflare:workers";
import {
  normalScope,
  type CreateService,
  type IssuedKey,
  type Refusal,
  type Result,
  type ServiceAccount,
  type ServiceScope,
  type UserRef,
} from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import {
  DECOY_DIGEST,
  formatServiceKey,
  keyDigest,
  keyRefusal,
  newServiceId,
  newServiceKey,
  rotatedExpiry,
  sameDigest,
  shouldTouch,
} from "../identity/service-key.ts";
import { botCountRefusal } from "../identity/bot-rules.ts";
import {
  accountOf,
  migrate,
  scopeColumns,
  scopeOfRow,
  type AccountRow,
  type KeyRow,
} from "./rows.ts";

/** Keys a service may hold that still work (active or in their overlap): enough for rotations. */
export const MAX_USABLE_KEYS = 10;

const refused = (code: Refusal["code"], message: string) =>
  ({ ok: false, error: { code, message } }) as const;
const invalidKey = refused("unauthorized", "the service key is invalid");
const noService = refused("not_found", "no such service account");
const noKey = refused("not_found", "no such key");

const ACCOUNT_COLUMNS = `a.id, a.name, a.owner_id, a.owner_name, a.created_by_id,
  a.created_by_name, a.created_at, a.disabled_at, s.rooms, s.actions, s.role`;
const KEY_COLUMNS = "key_id, account_id, created_at, expires_at, revoked_at, last_used_at";

/**
 * The instance's service accounts and their API keys (docs/service-keys.md), one object named
 * SERVICE_ACCOUNTS_NAME. Thin: the key format and the rules of use are in
 * src/identity/service-key.ts, the rows' meaning in rows.ts. The worker verifies every request
 * that carries a service key here; admins manage the accounts through src/routes/services.ts.
 * When a key stops working (revoked, past its overlap, its service disabled, rescoped or
 * deleted), the sockets opened with it close, in every room the service has used.
 *
 * Every account has an owner: bots' owners manage theirs through src/routes/bots.ts, which
 * passes `owner` (their user id) to each method: someone else's account is then `not_found`,
 * as one that does not exist. Without `owner` (admins) every account is reachable.
 */
export class ServiceAccounts extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
  }

  // ---- the worker, on every request with a service key ----

  /**
   * The service a key belongs to, from its id and the SHA-256 of its secret. A missing id is
   * compared against a decoy, so that it answers like a wrong secret.
   */
  async verify(keyId: string, digest: string): Promise<Result<Actor>> {
    const now = Date.now();
    const row = this.#sql<KeyRow & AccountRow & { secret_sha256: string }>(
      `SELECT k.key_id, k.secret_sha256, k.expires_at, k.revoked_at, k.last_used_at, ${ACCOUNT_COLUMNS}
       FROM keys k JOIN accounts a ON a.id = k.account_id JOIN scopes s ON s.account_id = a.id
       WHERE k.key_id = ?`,
      keyId,
    )[0];
    const matches = sameDigest(digest, row?.secret_sha256 ?? DECOY_DIGEST);
    if (!row || !matches) return invalidKey;
    const times = { expiresAt: row.expires_at, revokedAt: row.revoked_at };
    const refusal = keyRefusal(times, { disabledAt: row.disabled_at }, now);
    if (refusal) return refused("unauthorized", refusal);
    if (shouldTouch(row.last_used_at, now))
      this.ctx.storage.sql.exec("UPDATE keys SET last_used_at = ? WHERE key_id = ?", now, keyId);
    const scope = scopeOfRow(row);
    return { ok: true, value: { id: row.id, name: row.name, kind: "service", sid: keyId, scope } };
  }

  /** A room where the service opened a socket, so that revoking its key can close it. */
  async noteRoom(serviceId: string, room: string): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO rooms_used (account_id, room) VALUES (?, ?)",
      serviceId,
      room,
    );
  }

  // ---- admins, and owners of bots (`owner`) ----

  /** Every account, or `owner`'s, by name. */
  async list(owner?: string): Promise<ServiceAccount[]> {
    const rows = this.#sql<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN scopes s ON s.account_id = a.id
       WHERE ? IS NULL OR a.owner_id = ? ORDER BY a.name_key`,
      owner ?? null,
      owner ?? null,
    );
    const now = Date.now();
    return rows.map((row) => accountOf(row, this.#keys(row.id), now));
  }

  async get(id: string, owner?: string): Promise<Result<ServiceAccount>> {
    const account = this.#account(id, owner);
    return account ? { ok: true, value: account } : noService;
  }

  /**
   * A new service account owned by `by`, and its first key, whose secret is in the answer and
   * nowhere else. A bot (`bot`) counts against its owner's cap (src/identity/bot-rules.ts);
   * the count and the insert run with no await between them, so two at once cannot both pass.
   */
  async create(
    input: CreateService,
    by: UserRef,
    kind: "service" | "bot" = "service",
  ): Promise<Result<IssuedKey>> {
    if (kind === "bot") {
      const owned = this.#sql<{ n: number }>(
        "SELECT count(*) AS n FROM accounts WHERE owner_id = ?",
        by.id,
      )[0]!.n;
      const refusal = botCountRefusal(owned);
      if (refusal) return { ok: false, error: refusal };
    }
    const taken = this.#sql("SELECT 1 FROM accounts WHERE name_key = ?", input.name.toLowerCase());
    if (taken.length > 0) return refused("conflict", "a service account has that name");
    const id = newServiceId();
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec(
        `INSERT INTO accounts (id, name, name_key, owner_id, owner_name, created_by_id,
           created_by_name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.name,
        input.name.toLowerCase(),
        by.id,
        by.name,
        by.id,
        by.name,
        now,
      );
      this.ctx.storage.sql.exec(
        "INSERT INTO scopes (account_id, rooms, actions, role) VALUES (?, ?, ?, ?)",
        id,
        ...scopeColumns(normalScope(input.scope)),
      );
    });
    return this.addKey(id);
  }

  /** A new scope; sockets opened under the old one close, and reconnect under the new one. */
  async setScope(id: string, scope: ServiceScope, owner?: string): Promise<Result<ServiceAccount>> {
    if (!this.#account(id, owner)) return noService;
    this.ctx.storage.sql.exec(
      "UPDATE scopes SET rooms = ?, actions = ?, role = ? WHERE account_id = ?",
      ...scopeColumns(normalScope(scope)),
      id,
    );
    await this.#closeSockets(id);
    return this.get(id);
  }

  /** Disabling stops every key of the service at once; enabling lets its usable keys work again. */
  async setDisabled(
    id: string,
    disabled: boolean,
    owner?: string,
  ): Promise<Result<ServiceAccount>> {
    const account = this.#account(id, owner);
    if (!account) return noService;
    if (disabled === (account.disabledAt !== null)) return { ok: true, value: account };
    const at = disabled ? Date.now() : null;
    this.ctx.storage.sql.exec("UPDATE accounts SET disabled_at = ? WHERE id = ?", at, id);
    if (disabled) await this.#closeSockets(id);
    return this.get(id);
  }

  /** One more key for the service, beside those it has. */
  async addKey(id: string, owner?: string): Promise<Result<IssuedKey>> {
    if (!this.#account(id, owner)) return noService;
    const now = Date.now();
    const usable = this.#sql(
      `SELECT 1 FROM keys WHERE account_id = ? AND revoked_at IS NULL
       AND (expires_at IS NULL OR expires_at > ?)`,
      id,
      now,
    ).length;
    if (usable >= MAX_USABLE_KEYS)
      return refused(
        "conflict",
        `a service holds at most ${MAX_USABLE_KEYS} usable keys: revoke one`,
      );
    const key = newServiceKey();
    this.ctx.storage.sql.exec(
      "INSERT INTO keys (key_id, account_id, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
      key.keyId,
      id,
      await keyDigest(key.secret),
      now,
    );
    const service = this.#account(id)!;
    return {
      ok: true,
      value: { service, key: { id: key.keyId, secret: formatServiceKey(key), createdAt: now } },
    };
  }

  /**
   * A new key, and the old one kept working for `overlapSeconds` more (never longer than it
   * already would): time to deploy the new one. Its sockets close when the overlap ends.
   */
  async rotateKey(
    id: string,
    keyId: string,
    overlapSeconds: number,
    owner?: string,
  ): Promise<Result<IssuedKey>> {
    if (!this.#account(id, owner)) return noService;
    const old = this.#key(id, keyId);
    if (!old) return noKey;
    const now = Date.now();
    if (old.revoked_at !== null) return refused("conflict", "this key was revoked");
    if (old.expires_at !== null && old.expires_at <= now)
      return refused("conflict", "this key has expired");
    const issued = await this.addKey(id, owner);
    if (!issued.ok) return issued;
    const expires = rotatedExpiry(old.expires_at, now, overlapSeconds);
    this.ctx.storage.sql.exec("UPDATE keys SET expires_at = ? WHERE key_id = ?", expires, keyId);
    await this.#scheduleSweep();
    return { ok: true, value: { ...issued.value, service: this.#account(id)! } };
  }

  /** Revocation takes effect at once: the next request with the key is refused, its sockets close. */
  async revokeKey(id: string, keyId: string, owner?: string): Promise<Result<ServiceAccount>> {
    if (!this.#account(id, owner)) return noService;
    const key = this.#key(id, keyId);
    if (!key) return noKey;
    if (key.revoked_at === null) {
      this.ctx.storage.sql.exec(
        "UPDATE keys SET revoked_at = ? WHERE key_id = ?",
        Date.now(),
        keyId,
      );
      await this.#closeSockets(id, [keyId]);
    }
    return this.get(id);
  }

  /**
   * Deletes the account and every key of it: the next request with any of them is refused as
   * an unknown key, and their sockets close (4401). The rows go first, so that no socket can
   * reconnect in between. The answer is the account as it was, for the audit log.
   */
  async delete(id: string, owner?: string): Promise<Result<ServiceAccount>> {
    const account = this.#account(id, owner);
    if (!account) return noService;
    const rooms = this.#roomsUsed(id);
    this.ctx.storage.transactionSync(() => {
      for (const table of ["keys", "scopes", "rooms_used"])
        this.ctx.storage.sql.exec(`DELETE FROM ${table} WHERE account_id = ?`, id);
      this.ctx.storage.sql.exec("DELETE FROM accounts WHERE id = ?", id);
    });
    await this.#closeSocketsIn(rooms, id);
    await this.#scheduleSweep();
    return { ok: true, value: account };
  }

  /** Closes the sockets of keys whose overlap has ended. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = this.#sql<{ key_id: string; account_id: string }>(
      `SELECT key_id, account_id FROM keys
       WHERE expires_at <= ? AND sockets_closed_at IS NULL AND revoked_at IS NULL`,
      now,
    );
    for (const { key_id, account_id } of due) {
      await this.#closeSockets(account_id, [key_id]);
      this.ctx.storage.sql.exec(
        "UPDATE keys SET sockets_closed_at = ? WHERE key_id = ?",
        now,
        key_id,
      );
    }
    await this.#scheduleSweep();
  }

  // ---- internals ----

  #sql<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T[] {
    return this.ctx.storage.sql.exec<T>(query, ...bindings).toArray();
  }

  /** The account, unless it does not exist or `owner` is given and is not its owner. */
  #account(id: string, owner?: string): ServiceAccount | undefined {
    const row = this.#sql<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN scopes s ON s.account_id = a.id
       WHERE a.id = ? AND (? IS NULL OR a.owner_id = ?)`,
      id,
      owner ?? null,
      owner ?? null,
    )[0];
    return row && accountOf(row, this.#keys(id), Date.now());
  }

  #keys(id: string): KeyRow[] {
    return this.#sql<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = ? ORDER BY created_at DESC, rowid DESC`,
      id,
    );
  }

  #key(id: string, keyId: string): KeyRow | undefined {
    return this.#sql<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = ? AND key_id = ?`,
      id,
      keyId,
    )[0];
  }

  /** The alarm at the next end of an overlap whose sockets are still open, if any. */
  async #scheduleSweep(): Promise<void> {
    const next = this.#sql<{ at: number | null }>(
      `SELECT min(expires_at) AS at FROM keys
       WHERE expires_at IS NOT NULL AND sockets_closed_at IS NULL AND revoked_at IS NULL`,
    )[0]?.at;
    if (next === null || next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /** Closes the service's sockets (those of `keyIds` only, when given) in every room it used. */
  async #closeSockets(id: string, keyIds?: string[]): Promise<void> {
    await this.#closeSocketsIn(this.#roomsUsed(id), id, keyIds);
  }

  #roomsUsed(id: string): string[] {
    return this.#sql<{ room: string }>("SELECT room FROM rooms_used WHERE account_id = ?", id).map(
      ({ room }) => room,
    );
  }

  async #closeSocketsIn(rooms: string[], id: string, keyIds?: string[]): Promise<void> {
    await Promise.allSettled(
      rooms.map((room) => this.env.ROOM.getByName(room).endSessions(id, keyIds)),
    );
  }
}
