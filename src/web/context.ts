import { ApiError, type EdgechatApi, type Session } from "../client/index.ts";
import type { Route } from "./route.ts";
import type { Auth } from "./session.ts";

/** What every screen gets from the app. */
export type AppContext = {
  auth: Auth;
  /** The session the screen was built for. */
  session: Session;
  baseUrl: string;
  /** An API call with the current token; a 401 renews the session and retries once. */
  call<T>(run: (api: EdgechatApi) => Promise<T>): Promise<T>;
  /** Builds the current screen again (after a socket's session was renewed). */
  rerender(): void;
  /**
   * Whether the user is an instance admin (`GET /api/auth/me`): moderation in every room and
   * the admin dashboard. Asked once per user; false for guests and when the question fails.
   */
  admin: Promise<boolean>;
};

/**
 * A mounted screen; dispose closes its connections and timers. `follow` takes a new URL in
 * place when it is another panel of the same screen (answers false to be built anew).
 */
export type View = { el: HTMLElement; dispose(): void; follow?(route: Route): boolean };

/** Text for people from any failure; ApiError messages come from the server. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429 && error.retryAfter !== undefined && !/\d+ ?s\b/.test(error.message))
      return `${error.message} (try again in ${error.retryAfter} s)`;
    return error.message;
  }
  if (error instanceof TypeError)
    return "The server cannot be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

/**
 * True for a 401: `ctx.call` has already tried to renew the session and signed out, so the
 * screen has nothing more to do.
 */
export function handleUnauthorized(ctx: AppContext, error: unknown): boolean {
  if (!(error instanceof ApiError && error.status === 401)) return false;
  ctx.auth.expire();
  return true;
}
