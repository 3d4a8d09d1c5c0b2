import type { AdminUser, AdminUserDetail, EdgechatApi } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "../context.ts";
import { h, replace } from "../dom.ts";
import { adminHref } from "../route.ts";
import { agoText } from "./overview-data.ts";
import { reportTable } from "./tables.ts";

const PAGE = 50;
const TYPING_MS = 250;

/**
 * The dashboard's Users (docs/observability.md, "Administration"): registered accounts found
 * by name prefix, and one account's detail (`#/admin/users/<name>`): its kind, when it was
 * created, its open sessions and when each was last used, its ban; and what an admin may do:
 * end all its sessions, ban it instance-wide (or lift the ban), delete it.
 */
export function usersSection(ctx: AppContext, selected?: string): View {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let nextAfter: string | null = null;
  let asked = 0;
  const prefix = h("input", {
    id: "admin-user-prefix",
    type: "search",
    autocomplete: "off",
    placeholder: "name starts with…",
    maxlength: 32,
    "data-testid": "admin-user-search",
  });
  const body = h("tbody", { "data-testid": "admin-users" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "admin-users-error",
    hidden: true,
  });
  const more = h(
    "button",
    {
      type: "button",
      hidden: true,
      "data-testid": "admin-users-more",
      on: { click: () => void search(true) },
    },
    "More",
  );
  prefix.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void search(false), TYPING_MS);
  });

  function userRow(user: AdminUser): HTMLTableRowElement {
    return h(
      "tr",
      { "data-user": user.name, class: user.bannedAt === null ? undefined : "bad" },
      h("th", { scope: "row" }, h("a", { href: adminHref("users", user.name) }, user.name)),
      h("td", {}, user.kind),
      h("td", {}, new Date(user.createdAt).toLocaleString()),
      h("td", { "data-testid": "user-status" }, user.bannedAt === null ? "active" : "banned"),
    );
  }

  async function search(append: boolean): Promise<void> {
    const ask = ++asked;
    problem.hidden = true;
    try {
      const page = await ctx.call((api) =>
        api.admin.users({
          prefix: prefix.value.trim(),
          after: append ? (nextAfter ?? undefined) : undefined,
          limit: PAGE,
        }),
      );
      if (ask !== asked) return; // a newer search is on its way
      nextAfter = page.nextAfter;
      more.hidden = nextAfter === null;
      const rows = page.users.map(userRow);
      if (append) body.append(...rows);
      else
        replace(
          body,
          ...(rows.length
            ? rows
            : [h("tr", {}, h("td", { colspan: 4, class: "hint" }, "No account matches."))]),
        );
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = errorText(error);
      problem.hidden = false;
    }
  }

  const detail =
    selected === undefined ? null : userDetail(ctx, selected, () => void search(false));
  const el = h(
    "div",
    { class: "admin-section" },
    detail?.el,
    h(
      "section",
      { class: "card", "aria-labelledby": "admin-users-title" },
      h("h2", { id: "admin-users-title" }, "Users"),
      h(
        "p",
        { class: "hint" },
        "Registered accounts (guests have none). Accounts from before the user index appear " +
          "after their next sign-in.",
      ),
      h(
        "form",
        {
          class: "row filters",
          role: "search",
          on: {
            submit: (event) => {
              event.preventDefault();
              clearTimeout(timer);
              void search(false);
            },
          },
        },
        h("label", { for: "admin-user-prefix" }, "Search"),
        prefix,
        h("button", { type: "submit", "data-testid": "admin-user-search-submit" }, "Search"),
      ),
      problem,
      reportTable(["Name", "Kind", "Created", "Status"], body, "Users"),
      more,
    ),
  );
  void search(false);
  return {
    el,
    dispose() {
      clearTimeout(timer);
    },
  };
}

/** One account's card: what is known of it and the admin's actions, each asked of the server. */
function userDetail(ctx: AppContext, name: string, changed: () => void) {
  const facts = h("dl", { class: "facts", "data-testid": "user-facts" });
  const sessions = h("tbody", { "data-testid": "user-sessions" });
  const result = h("p", { class: "hint", role: "status", "data-testid": "user-result" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "user-error",
    hidden: true,
  });
  const reason = h("input", {
    id: "ban-reason",
    maxlength: 500,
    autocomplete: "off",
    placeholder: "reason (optional, for admins)",
    "data-testid": "ban-reason",
  });
  const actions = h("div", { class: "user-actions" });
  const title = h("h2", { id: "user-title" }, name);
  let deleteArmed = false;

  /** Runs an action; says `done(its answer)`, or the server's words when it is refused. */
  async function act<T>(run: (api: EdgechatApi) => Promise<T>, done: (value: T) => string) {
    problem.hidden = true;
    result.textContent = "";
    try {
      const value = await ctx.call(run);
      result.textContent = done(value);
      changed();
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = errorText(error);
      problem.hidden = false;
    }
  }

  function show(user: AdminUserDetail): void {
    title.textContent = user.name;
    const now = Date.now();
    const fact = (term: string, value: string, testid?: string) => [
      h("dt", {}, term),
      h("dd", testid ? { "data-testid": testid } : {}, value),
    ];
    replace(
      facts,
      ...fact("Kind", user.admin ? `${user.kind} (instance admin)` : user.kind, "user-kind"),
      ...fact("Id", user.id),
      ...fact("Created", new Date(user.createdAt).toLocaleString()),
      ...fact(
        "Status",
        user.bannedAt === null
          ? "active"
          : `banned ${new Date(user.bannedAt).toLocaleString()}${user.banReason ? `: ${user.banReason}` : ""}`,
        "user-ban",
      ),
      ...fact("Open sessions", String(user.sessions.length), "user-session-count"),
      ...fact(
        "Last used",
        user.sessions[0] ? agoText(user.sessions[0].lastUsedAt, now) : "–",
        "user-last-used",
      ),
      ...fact("Rooms used", String(user.roomsUsed)),
    );
    replace(
      sessions,
      ...(user.sessions.length
        ? user.sessions.map((session) =>
            h(
              "tr",
              {},
              h("td", {}, new Date(session.createdAt).toLocaleString()),
              h("td", {}, agoText(session.lastUsedAt, now)),
              h("td", {}, new Date(session.expiresAt).toLocaleString()),
            ),
          )
        : [h("tr", {}, h("td", { colspan: 3, class: "hint" }, "No open session."))]),
    );
    deleteArmed = false;
    const banned = user.bannedAt !== null;
    // The server refuses an admin's ban or deletion of themselves: not offered.
    const self = user.name.toLowerCase() === ctx.session.user.name.toLowerCase();
    replace(
      actions,
      h(
        "button",
        {
          type: "button",
          "data-testid": "end-sessions",
          disabled: user.sessions.length === 0,
          on: {
            click: () =>
              void act(
                async (api) => {
                  const ended = await api.admin.endUserSessions(name);
                  show(ended.user);
                  return ended.ended;
                },
                (ended: number) => `${ended} ${ended === 1 ? "session" : "sessions"} ended.`,
              ),
          },
        },
        "End all sessions",
      ),
      banned
        ? h(
            "button",
            {
              type: "button",
              "data-testid": "unban",
              on: {
                click: () =>
                  void act(
                    async (api) => show(await api.admin.unbanUser(name)),
                    () => "Ban lifted: the user may sign in again.",
                  ),
              },
            },
            "Lift the ban",
          )
        : h(
            "div",
            { class: "row ban-row" },
            h("label", { for: "ban-reason", class: "visually-hidden" }, "Reason for the ban"),
            reason,
            h(
              "button",
              {
                type: "button",
                class: "danger",
                "data-testid": "ban",
                disabled: self,
                on: {
                  click: () =>
                    void act(
                      async (api) =>
                        show(await api.admin.banUser(name, reason.value.trim() || undefined)),
                      () => "Banned: every session ended, sign-in refused.",
                    ),
                },
              },
              "Ban from the instance",
            ),
          ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "data-testid": "delete-user",
          disabled: self,
          on: {
            click: (event) => {
              const button = event.currentTarget as HTMLButtonElement;
              // Two steps instead of a dialog: the first click asks, the second deletes.
              if (!deleteArmed) {
                deleteArmed = true;
                button.textContent = `Really delete ${user.name}? Click again`;
                return;
              }
              void act(
                async (api) => {
                  await api.admin.deleteUser(name);
                  replace(actions);
                  replace(
                    facts,
                    h("dt", {}, "Status"),
                    h("dd", { "data-testid": "user-ban" }, "deleted"),
                  );
                  replace(sessions);
                },
                () => `${user.name} deleted: the name is free again.`,
              );
            },
          },
        },
        "Delete account",
      ),
    );
  }

  const el = h(
    "section",
    { class: "card user-detail", "aria-labelledby": "user-title", "data-testid": "user-detail" },
    h("div", { class: "row spread" }, title, h("a", { href: adminHref("users") }, "Close")),
    problem,
    facts,
    reportTable(["Opened", "Last used", "Expires"], sessions, "Open sessions"),
    actions,
    result,
  );
  void ctx
    .call((api) => api.admin.user(name))
    .then(show)
    .catch((error: unknown) => {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = errorText(error);
      problem.hidden = false;
    });
  return { el };
}
