import { DurableObject } from "cloudflare:workers";
import { hashPassword, PasswordHash, verifyPassword } from "../identity/password.ts";
import { newUserId } from "../identity/access-token.ts";
import { requireConfig } from "../config.ts";
import type { AdminSession, AdminUserDetail, Result, User } from "../protocol/index.ts";
import { formatRefreshToken, newSecret, newSessionId, sha256 } from "../identity/refresh-token.ts";
import { lockoutSeconds } from "./lockout.ts";
import { BANNED } from "./admin-rules.ts";
import { USER_INDEX_NAME } from "./user-index.ts";
import { errorFields, log } from "../telemetry/log.ts";
import {
  migrate,
  openSessionIds,
  readAccount,
  readSession,
  summary,
  type AccountRow,
} from "./account-tables.ts";

/** A session just opened or rotated: the user, its id, and the refresh token to hand back. */
export type Issued = { user: User; sid: string; refreshToken: string };

// One message for every failed sign-in, so that nobody learns whether a username exists.
const badCredentials = {
  ok: false,
  error: { code: "unauthorized", message: "wrong username or password" },
} as const;
const badRefresh = {
  ok: false,
  error: { code: "unauthorized", message: "the session has ended: sign in again" },
} as const;

/**
 * One registered account, addressed by its lower-cased username: that makes usernames unique
 * without a global lock. Holds the password hash, the sessions and their refresh tokens, and
 * the rooms where the user has had sockets, so that ending a session can close them (4401);
 * with the rooms they created or were invited to, that is also their list of rooms (GraphQL).
 */
export class Account extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
  }

  async register(username: string, password: string): Promise<Result<Issued>> {
    if (readAccount(this.#sql))
      return { ok: false, error: { code: "conflict", message: "that username is taken" } };
    const hash = await hashPassword(password);
    // Hashing awaited: another registration may have won meanwhile.
    if (readAccount(this.#sql))
      return { ok: false, error: { code: "conflict", message: "that username is taken" } };
    const now = Date.now();
    this.#sql.exec(
      "INSERT INTO account (singleton, user_id, username, password, created_at) VALUES (1, ?, ?, ?, ?)",
      newUserId(),
      username,
      JSON.stringify(hash),
      now,
    );
    await this.#index();
    return { ok: true, value: await this.#openSession(now) };
  }

  async login(password: string): Promise<Result<Issued>> {
    const now = Date.now();
    const { AUTH_WINDOW_SECONDS, AUTH_MAX_FAILURES } = requireConfig(this.env);
    const windowMs = AUTH_WINDOW_SECONDS * 1000;
    const failures = this.#sql.exec<{ at: number }>("SELECT at FROM failures").toArray();
    const wait = lockoutSeconds(
      failures.map((f) => f.at),
      now,
      windowMs,
      AUTH_MAX_FAILURES,
    );
    if (wait > 0) {
      const message = `too many wrong passwords: try again in ${wait} s`;
      return { ok: false, error: { code: "rate_limited", message, retryAfter: wait } };
    }
    const account = readAccount(this.#sql);
    // Hash even for a missing account, so the answer takes as long either way.
    const stored: PasswordHash = account ? storedHash(account.password) : DECOY;
    const matches = await verifyPassword(password, stored);
    if (!account || !matches) {
      // Counted for missing accounts too: a lockout must not reveal that a name exists.
      this.#sql.exec("DELETE FROM failures WHERE at <= ?", now - windowMs);
      this.#sql.exec("INSERT INTO failures (at) VALUES (?)", now);
      return badCredentials;
    }
    this.#sql.exec("DELETE FROM failures");
    // Only after the password matched: a wrong one gets the same answer as for anyone.
    if (account.banned_at !== null) return { ok: false, error: BANNED };
    // An account older than the user index joins it at its next sign-in.
    await this.#index();
    return { ok: true, value: await this.#openSession(now) };
  }

  /** Rotates a refresh token. A token that was already rotated is theft: the session ends. */
  async refresh(sid: string, secret: string): Promise<Result<Issued>> {
    const now = Date.now();
    if (readAccount(this.#sql)?.banned_at != null) return { ok: false, error: BANNED };
    const session = readSession(this.#sql, sid);
    if (!session || session.revoked_at !== null || session.expires_at <= now) return badRefresh;
    const hash = await sha256(secret);
    if (hash !== session.refresh_hash) {
      const spent = this.#sql.exec(
        "SELECT 1 FROM spent_refresh WHERE hash = ? AND sid = ?",
        hash,
        sid,
      );
      if (spent.toArray().length > 0) await this.#revoke([sid], now);
      return badRefresh;
    }
    const next = newSecret();
    this.#sql.exec("INSERT INTO spent_refresh (hash, sid) VALUES (?, ?)", hash, sid);
    this.#sql.exec(
      "UPDATE sessions SET refresh_hash = ?, last_used_at = ? WHERE sid = ?",
      await sha256(next),
      now,
      sid,
    );
    return { ok: true, value: this.#issued(sid, next) };
  }

  /** Whether an access token's session is still open: asked by the worker on every request. */
  async sessionActive(sid: string): Promise<boolean> {
    const session = readSession(this.#sql, sid);
    // A ban revokes every session; checking it too keeps a ban final should a revocation be missed.
    if (readAccount(this.#sql)?.banned_at != null) return false;
    return session !== undefined && session.revoked_at === null && session.expires_at > Date.now();
  }

  /**
   * Ends the session whose current refresh token this is; a token with the wrong secret ends
   * nothing. Returns whose session ended (for the audit log), or undefined.
   */
  async logout(sid: string, secret: string): Promise<User | undefined> {
    const session = readSession(this.#sql, sid);
    if (!session || session.revoked_at !== null || (await sha256(secret)) !== session.refresh_hash)
      return undefined;
    await this.#revoke([sid], Date.now());
    return this.profile();
  }

  /** Checks the current password, sets the new one, ends every session and opens a fresh one. */
  async changePassword(current: string, next: string): Promise<Result<Issued>> {
    const account = readAccount(this.#sql);
    if (!account || !(await verifyPassword(current, storedHash(account.password))))
      return badCredentials;
    const now = Date.now();
    this.#sql.exec("UPDATE account SET password = ?", JSON.stringify(await hashPassword(next)));
    await this.#revoke(openSessionIds(this.#sql, now), now);
    return { ok: true, value: await this.#openSession(now) };
  }

  /** Ends every session, closes the user's sockets and forgets the account and its name. */
  async deleteAccount(password: string): Promise<Result<null>> {
    const account = readAccount(this.#sql);
    if (!account || !(await verifyPassword(password, storedHash(account.password))))
      return badCredentials;
    await this.#erase(account);
    return { ok: true, value: null };
  }

  // ---- for instance admins (src/routes/admin-users.ts; docs/observability.md) ----

  /** The account, its ban and its open sessions; undefined when there is no account. */
  async adminDetail(admins: readonly string[]): Promise<AdminUserDetail | undefined> {
    const account = readAccount(this.#sql);
    if (!account) return undefined;
    const now = Date.now();
    const sessions = this.#sql
      .exec<{ created_at: number; last_used_at: number | null; expires_at: number }>(
        `SELECT created_at, last_used_at, expires_at FROM sessions
         WHERE revoked_at IS NULL AND expires_at > ? ORDER BY coalesce(last_used_at, created_at) DESC`,
        now,
      )
      .toArray()
      .map((row): AdminSession => ({
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at ?? row.created_at,
        expiresAt: row.expires_at,
      }));
    const roomsUsed = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM rooms").one().n;
    return {
      ...summary(account),
      banReason: account.ban_reason,
      admin: admins.includes(account.username.toLowerCase()),
      sessions,
      roomsUsed,
    };
  }

  /** Ends every open session (their sockets close with 4401); how many ended, or undefined. */
  async endAllSessions(): Promise<number | undefined> {
    if (!readAccount(this.#sql)) return undefined;
    const now = Date.now();
    const sids = openSessionIds(this.#sql, now);
    await this.#revoke(sids, now);
    return sids.length;
  }

  /**
   * Bans the account instance-wide: no sign-in or refresh from now on, and every session ends
   * at once (sockets closed in every room the user used). Returns the sessions ended, or
   * undefined when there is no account. Banning again keeps the first time, updates the reason.
   */
  async ban(reason: string | null): Promise<number | undefined> {
    const account = readAccount(this.#sql);
    if (!account) return undefined;
    const now = Date.now();
    this.#sql.exec(
      "UPDATE account SET banned_at = coalesce(banned_at, ?), ban_reason = ?",
      now,
      reason,
    );
    const sids = openSessionIds(this.#sql, now);
    await this.#revoke(sids, now);
    await this.#index();
    return sids.length;
  }

  /** Lifts the ban: the user may sign in again (their old sessions stay ended). */
  async unban(): Promise<boolean> {
    if (!readAccount(this.#sql)) return false;
    this.#sql.exec("UPDATE account SET banned_at = NULL, ban_reason = NULL");
    await this.#index();
    return true;
  }

  /** Deleted by an admin: as the user's own deletion, without the password. */
  async adminDelete(): Promise<User | undefined> {
    const account = readAccount(this.#sql);
    if (!account) return undefined;
    const user: User = { id: account.user_id, name: account.username, kind: "user" };
    await this.#erase(account);
    return user;
  }

  /** The user behind this account, for invitations by username. */
  async profile(): Promise<User | undefined> {
    const account = readAccount(this.#sql);
    return account && { id: account.user_id, name: account.username, kind: "user" };
  }

  /**
   * Remembers a room where the user opened a socket (so that revocation can reach it), created
   * a room or was invited. REPLACE gives the row a new rowid: the rowids order the rooms by when
   * they were last noted, which `rooms` reads.
   */
  async noteRoom(name: string): Promise<void> {
    this.#sql.exec("INSERT OR REPLACE INTO rooms (name) VALUES (?)", name);
  }

  /** The rooms noted last, newest first, at most `limit`: GraphQL's `me.rooms` asks each. */
  async rooms(limit: number): Promise<string[]> {
    return this.#sql
      .exec<{ name: string }>("SELECT name FROM rooms ORDER BY rowid DESC LIMIT ?", limit)
      .toArray()
      .map((row) => row.name);
  }

  // ---- internals ----

  get #sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** Ends every session, closes the user's sockets, forgets the account and frees its name. */
  async #erase(account: AccountRow): Promise<void> {
    const now = Date.now();
    await this.#revoke(openSessionIds(this.#sql, now), now);
    await this.ctx.storage.deleteAll();
    migrate(this.ctx.storage);
    await this.#userIndex()
      .forget(account.username, account.user_id)
      .catch((error: unknown) =>
        log.warn("user index not told of a deletion", { error: errorFields(error) }),
      );
  }

  /**
   * Tells the user index how this account stands. Best effort: a failure costs the index one
   * update, which the account's next sign-in or change makes good.
   */
  async #index(): Promise<void> {
    const account = readAccount(this.#sql);
    if (!account) return;
    await this.#userIndex()
      .note(summary(account))
      .catch((error: unknown) => log.warn("user index not updated", { error: errorFields(error) }));
  }

  #userIndex() {
    return this.env.USER_INDEX.getByName(USER_INDEX_NAME);
  }

  async #openSession(now: number): Promise<Issued> {
    const sid = newSessionId();
    const secret = newSecret();
    const expires = now + requireConfig(this.env).REFRESH_TOKEN_SECONDS * 1000;
    this.#sql.exec(
      "INSERT INTO sessions (sid, refresh_hash, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?)",
      sid,
      await sha256(secret),
      now,
      expires,
      now,
    );
    return this.#issued(sid, secret);
  }

  #issued(sid: string, secret: string): Issued {
    const account = readAccount(this.#sql)!;
    const user: User = { id: account.user_id, name: account.username, kind: "user" };
    const refreshToken = formatRefreshToken({
      account: account.username.toLowerCase(),
      sid,
      secret,
    });
    return { user, sid, refreshToken };
  }

  /** Marks sessions revoked, then closes their sockets in every room the user has used. */
  async #revoke(sids: string[], now: number): Promise<void> {
    if (sids.length === 0) return;
    for (const sid of sids)
      this.#sql.exec("UPDATE sessions SET revoked_at = ? WHERE sid = ?", now, sid);
    const userId = readAccount(this.#sql)?.user_id;
    if (!userId) return;
    const rooms = this.#sql.exec<{ name: string }>("SELECT name FROM rooms").toArray();
    await Promise.allSettled(
      rooms.map(({ name }) => this.env.ROOM.getByName(name).endSessions(userId, sids)),
    );
  }
}

/** A hash to verify against when the account does not exist (its password is unguessable). */
const DECOY: PasswordHash = {
  algorithm: "pbkdf2-sha256",
  iterations: 100_000,
  salt: "AAAAAAAAAAAAAAAAAAAAAA==",
  hash: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
};

/** The stored hash, checked: a row that is not one is a bug to surface, never a way in. */
const storedHash = (json: string): PasswordHash => PasswordHash.parse(JSON.parse(json));
