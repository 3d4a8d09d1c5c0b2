import type { Refusal } from "../protocol/index.ts";

/**
 * The rules of user administration (docs/observability.md, "Administration"), pure so that they
 * are tested without a runtime: what an admin may do to whom, the message a banned account
 * gets, and how the user index pages by name.
 */

/**
 * Why the admin named `actorName` may not act on the account `target` this way, or undefined.
 * Admins cannot ban or delete themselves from the admin API: a slip would lock them out of the
 * dashboard (their own deletion, with the password, stays at `DELETE /api/auth/account`).
 */
export function adminActionRefusal(
  action: "ban" | "delete" | "end_sessions" | "unban",
  actorName: string,
  target: string,
): Refusal | undefined {
  if (action !== "ban" && action !== "delete") return undefined;
  if (actorName.toLowerCase() !== target.toLowerCase()) return undefined;
  return {
    code: "forbidden",
    message:
      action === "ban"
        ? "instance admins cannot ban themselves"
        : "instance admins cannot delete their own account here: use your account's own deletion",
  };
}

/** The refusal a banned account's sign-in and refresh get: it says what happened, not why. */
export const BANNED: Refusal = {
  code: "forbidden",
  message: "this account is banned from this instance",
};

/**
 * The index's key range for a name prefix: keys are lower-cased usernames (A-Z, a-z, 0-9, _, .
 * and -, all below "~"), so every key starting with `prefix` is in [prefix, prefix + "~").
 * `after`, the previous page's last key, moves the start past it.
 * @example prefixRange("Ad") // { from: "ad", fromInclusive: true, to: "ad~" }
 */
export function prefixRange(
  prefix: string,
  after?: string,
): { from: string; fromInclusive: boolean; to: string } {
  const low = prefix.toLowerCase();
  const cursor = after?.toLowerCase();
  const to = `${low}~`;
  if (cursor !== undefined && cursor >= low) return { from: cursor, fromInclusive: false, to };
  return { from: low, fromInclusive: true, to };
}

/**
 * A page from rows fetched one over the limit: the rows to show, and the cursor for the next
 * page (the last shown key) when there is one.
 */
export function pageOfKeys<T extends { key: string }>(
  rows: readonly T[],
  limit: number,
): { rows: T[]; nextAfter: string | null } {
  const shown = rows.slice(0, limit);
  const more = rows.length > limit;
  return { rows: shown, nextAfter: more ? (shown.at(-1)?.key ?? null) : null };
}
