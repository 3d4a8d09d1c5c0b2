import * as z from "zod";
import { ApiError, EdgechatApi, Session } from "../client/index.ts";
import { readStored } from "./stored.ts";

const KEY = "edgechat.session";
/** Renew a registered user's access token this long before it expires. */
const EARLY_MS = 60_000;
/** A second forced renewal this soon after the last one means the session is gone. */
const REAUTH_MS = 15_000;

/**
 * The stored session. The access token is kept in localStorage so every tab shares it and a
 * reload keeps you signed in; the refresh token is an HttpOnly cookie no script can read.
 * A guest whose token expired is signed out; a registered user is kept, to be renewed.
 */
export function loadSession(): Session | undefined {
  const stored = readStored(KEY, Session);
  if (stored.found === "nothing") return undefined;
  // A value this app would not have written (edited, or from another version) signs you out.
  if (stored.found === "bad") return clearSession();
  const session = stored.value;
  if (session.user.kind !== "user" && !fresh(session.token, 0)) return clearSession();
  return session;
}

export function saveSession(session: Session): void {
  const { token, user } = session; // never a refresh token, should a body carry one
  localStorage.setItem(KEY, JSON.stringify({ token, user }));
}

export function clearSession(): undefined {
  localStorage.removeItem(KEY);
  return undefined;
}

/** Whether a token is still good for `marginMs` (a token without `exp` counts as good). */
function fresh(token: string, marginMs: number): boolean {
  const exp = tokenExpiry(token);
  return exp === undefined || exp * 1000 - marginMs > Date.now();
}

/** The claims the app reads from an access token: when it expires (seconds). */
const Claims = z.object({ exp: z.number().optional() });

/** The `exp` claim of a JWT (seconds), read without verifying: the server verifies. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = Claims.safeParse(
      JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))),
    );
    return claims.success ? claims.data.exp : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `task` holding a lock shared by every tab, so that two tabs never rotate one cookie at once. */
async function exclusively<T>(task: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return task();
  return locks.request("edgechat.refresh", task) as Promise<T>;
}

export type AuthChange = "signed-in" | "signed-out";

/**
 * Who is signed in, and keeping them signed in: a registered user's 15-minute access token is
 * renewed with the refresh cookie before it expires, on a 401 (then the call is retried once)
 * and on a revoked socket. Tabs share the token through localStorage and take turns to renew.
 */
export class Auth {
  session: Session | undefined;
  readonly #baseUrl: string;
  readonly #changed: (change: AuthChange) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #renewing: Promise<boolean> | undefined;
  #forcedAt = 0;

  constructor(baseUrl: string, changed: (change: AuthChange) => void) {
    this.#baseUrl = baseUrl;
    this.#changed = changed;
    this.session = loadSession();
    this.#schedule();
    window.addEventListener("storage", (event) => {
      if (event.key !== KEY && event.key !== null) return;
      const stored = loadSession();
      const before = this.session?.user.id;
      this.session = stored;
      this.#schedule();
      if (!stored && before) this.#changed("signed-out");
      else if (stored && stored.user.id !== before) this.#changed("signed-in");
    });
  }

  get isUser(): boolean {
    return this.session?.user.kind === "user";
  }

  /** The current access token (read by sockets at each connect). */
  readonly token = (): string => this.session?.token ?? "";

  /** The API with the current token. */
  get api(): EdgechatApi {
    return new EdgechatApi(this.#baseUrl, this.session?.token);
  }

  signedIn(session: Session): void {
    this.adopt(session);
    this.#changed("signed-in");
  }

  /** A new session for the same user (a changed password), without rebuilding the screen. */
  adopt(session: Session): void {
    saveSession(session);
    this.session = { token: session.token, user: session.user };
    this.#schedule();
  }

  /**
   * Runs an API call; on a 401 renews the token (registered users) and retries once.
   * When the session cannot be renewed it signs out and rethrows the 401.
   */
  async call<T>(run: (api: EdgechatApi) => Promise<T>): Promise<T> {
    const token = this.session?.token;
    try {
      return await run(this.api);
    } catch (error) {
      if (!unauthorized(error)) throw error;
      if (!token || !(await this.renew(token))) {
        this.expire();
        throw error;
      }
    }
    try {
      return await run(this.api);
    } catch (error) {
      if (unauthorized(error)) this.expire();
      throw error;
    }
  }

  /**
   * A new access token for a registered user, unless another tab already got one since `stale`
   * was handed out. False when the session has ended (then you are signed out) or cannot be
   * reached; guests have nothing to renew.
   */
  renew(stale?: string): Promise<boolean> {
    if (!this.isUser) return Promise.resolve(false);
    this.#renewing ??= exclusively(async () => {
      const mine = this.session;
      if (!mine) return false;
      const stored = loadSession();
      if (
        stored &&
        stored.user.id === mine.user.id &&
        stored.token !== (stale ?? mine.token) &&
        fresh(stored.token, EARLY_MS)
      ) {
        this.session = stored;
        return true;
      }
      try {
        const session = await new EdgechatApi(this.#baseUrl).refresh();
        if (!this.session) return false; // signed out meanwhile
        saveSession(session);
        this.session = { token: session.token, user: session.user };
        return true;
      } catch (error) {
        if (error instanceof ApiError) this.expire();
        return false;
      }
    }).finally(() => {
      this.#renewing = undefined;
      this.#schedule();
    });
    return this.#renewing;
  }

  /**
   * After a socket was refused or revoked (4401): renew once; a second time within a few
   * seconds means the session is really gone, so sign out. True when the view may reconnect.
   */
  async reauth(stale: string): Promise<boolean> {
    const now = Date.now();
    if (!this.isUser || now - this.#forcedAt < REAUTH_MS) {
      this.expire();
      return false;
    }
    this.#forcedAt = now;
    const renewed = await this.renew(stale);
    if (!renewed) this.expire();
    return renewed;
  }

  /** Ends the session on the server (registered users), then here and in every tab. */
  async signOut(): Promise<void> {
    if (this.isUser) {
      const done = this.api.logout().catch(() => undefined);
      const timeout = new Promise((resolve) => setTimeout(resolve, 3_000));
      await Promise.race([done, timeout]);
    }
    this.expire();
  }

  /** Forgets the session here (the server already refused it) and shows the sign-in screen. */
  expire(): void {
    if (!this.session) return;
    this.session = clearSession();
    this.#schedule();
    this.#changed("signed-out");
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const session = this.session;
    if (!session || session.user.kind !== "user") return;
    const exp = tokenExpiry(session.token);
    if (exp === undefined) return;
    const wait = Math.max(exp * 1000 - EARLY_MS - Date.now(), 5_000);
    // renew() schedules the next one when it settles; offline, that is a retry every few seconds.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.renew(session.token);
    }, wait);
  }
}

function unauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}
