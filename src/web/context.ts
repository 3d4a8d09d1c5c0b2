import { ApiError, type EdgechatApi, type Session } from "../client/index.ts";

/** What every screen gets from the app. */
export type AppContext = {
  /** The API with the session's token. */
  api: EdgechatApi;
  session: Session;
  baseUrl: string;
  /** Forgets the session and shows the name screen (also on any 401). */
  signOut: () => void;
};

/** A mounted screen; dispose closes its connections and timers. */
export type View = { el: HTMLElement; dispose(): void };

/** Text for people from any failure; ApiError messages come from the server. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError)
    return "The server cannot be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

/** Signs out when the server refused the token; true if it did. */
export function handleUnauthorized(ctx: AppContext, error: unknown): boolean {
  if (!(error instanceof ApiError && error.status === 401)) return false;
  ctx.signOut();
  return true;
}
