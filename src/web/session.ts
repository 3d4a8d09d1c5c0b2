import type { Session } from "../client/index.ts";

const KEY = "edgechat.session";

/** The signed-in guest, kept in localStorage; an expired token counts as signed out. */
export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return undefined;
    const session = JSON.parse(raw) as Session;
    if (typeof session?.token !== "string" || typeof session.user?.id !== "string")
      return undefined;
    const exp = tokenExpiry(session.token);
    if (exp !== undefined && exp * 1000 <= Date.now()) return clearSession();
    return session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): undefined {
  localStorage.removeItem(KEY);
  return undefined;
}

/** The `exp` claim of a JWT (seconds), read without verifying: the server verifies. */
function tokenExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as {
      exp?: unknown;
    };
    return typeof json.exp === "number" ? json.exp : undefined;
  } catch {
    return undefined;
  }
}
