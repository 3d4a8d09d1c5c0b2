import { ApiError, AuditAction, type AuditEntry, type AdminApi } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext } from "../context.ts";
import { append, h, replace } from "../dom.ts";

type Filter = NonNullable<Parameters<AdminApi["auditLog"]>[0]>;

const PAGE = 50;

/**
 * The admin dashboard's instance audit log (docs/audit.md): newest first, filtered by actor,
 * action and time, "Load older" for the next page, and a check of the log's hash chain.
 * Loaded once when shown and on demand: it is a record to browse, not a live feed.
 */
export function auditLogSection(ctx: AppContext): HTMLElement {
  const actor = h("input", {
    name: "actor",
    "data-testid": "audit-actor",
    placeholder: "user id or name",
    maxlength: 64,
  });
  const action = h(
    "select",
    { name: "action", "data-testid": "audit-action" },
    h("option", { value: "" }, "any action"),
    ...AuditAction.options.map((name) => h("option", { value: name }, name)),
  );
  const since = h("input", {
    name: "since",
    type: "datetime-local",
    step: 1,
    "data-testid": "audit-since",
  });
  const until = h("input", {
    name: "until",
    type: "datetime-local",
    step: 1,
    "data-testid": "audit-until",
  });
  const body = h("tbody", { "data-testid": "audit-entries" });
  const source = h("p", { class: "hint", "data-testid": "audit-source" });
  const verdict = h("p", { class: "hint", role: "status", "data-testid": "audit-verify" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "audit-error",
    hidden: true,
  });
  const older = h(
    "button",
    {
      type: "button",
      "data-testid": "audit-older",
      hidden: true,
      on: { click: () => void load(true) },
    },
    "Load older",
  );
  const verifyButton = h(
    "button",
    { type: "button", "data-testid": "audit-verify-button", on: { click: () => void verify() } },
    "Verify chain",
  );
  const form = h(
    "form",
    {
      class: "row audit-filters",
      "aria-label": "Filter the audit log",
      on: {
        submit: (event) => {
          event.preventDefault();
          void load(false);
        },
      },
    },
    field("Actor", actor),
    field("Action", action),
    field("From", since),
    field("To", until),
    h("button", { type: "submit", "data-testid": "audit-filter" }, "Filter"),
    verifyButton,
  );
  const section = h(
    "section",
    { class: "card audit", "aria-labelledby": "audit-title" },
    h("h2", { id: "audit-title" }, "Audit log"),
    form,
    verdict,
    problem,
    source,
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": "Audit log entries", tabindex: 0 },
      h(
        "table",
        { class: "report" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["When", "Who", "Action", "Target", "From where", "Details"].map((text) =>
              h("th", { scope: "col" }, text),
            ),
          ),
        ),
        body,
      ),
    ),
    older,
  );

  let nextBefore: number | null = null;
  let shown: Filter = {};

  async function load(more: boolean): Promise<void> {
    const filter: Filter = more ? { ...shown, before: nextBefore ?? undefined } : filterOf();
    if (!more) shown = filter;
    try {
      const page = await ctx.call((api) => api.admin.auditLog({ ...filter, limit: PAGE }));
      problem.hidden = true;
      const rows = page.entries.map(entryRow);
      if (more) append(body, ...rows);
      else replace(body, ...(rows.length ? rows : [emptyRow()]));
      nextBefore = page.nextBefore;
      older.hidden = nextBefore === null;
      source.textContent =
        page.source === "postgres"
          ? "From the Postgres mirror: the newest entries may take a moment to appear."
          : "From the log itself.";
    } catch (error) {
      fail(error);
    }
  }

  async function verify(): Promise<void> {
    verdict.textContent = "Verifying…";
    try {
      const report = await ctx.call((api) => api.admin.verifyAuditLog());
      verdict.className = report.ok ? "hint ok" : "error";
      verdict.textContent = report.ok
        ? `Chain verified: ${report.lastSeq} entries, head ${report.head.slice(0, 16)}…`
        : `Chain broken at entry ${report.seq}: ${report.problem}`;
      verdict.setAttribute("data-ok", String(report.ok));
    } catch (error) {
      verdict.textContent = "";
      fail(error);
    }
  }

  function fail(error: unknown): void {
    if (handleUnauthorized(ctx, error)) return;
    problem.textContent =
      error instanceof ApiError && error.status === 403
        ? `For instance admins only (${error.message}).`
        : `Could not read the audit log: ${errorText(error)}`;
    problem.hidden = false;
  }

  function filterOf(): Filter {
    const filter: Filter = {};
    if (actor.value.trim()) filter.actor = actor.value.trim();
    const chosen = AuditAction.safeParse(action.value);
    if (chosen.success) filter.action = chosen.data;
    const from = timeOf(since.value, 0);
    const to = timeOf(until.value, 999);
    if (from !== undefined) filter.since = from;
    if (to !== undefined) filter.until = to;
    return filter;
  }

  void load(false);
  return section;
}

/** A datetime-local value (local time, to the second) as ms; `extraMs` makes "to" inclusive. */
function timeOf(value: string, extraMs: number): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) && ms >= 0 ? ms + extraMs : undefined;
}

function field(label: string, control: HTMLElement): HTMLElement {
  return h("label", {}, h("span", {}, label), control);
}

function emptyRow(): HTMLTableRowElement {
  return h("tr", {}, h("td", { colspan: 6, class: "hint" }, "No entries match."));
}

function entryRow(entry: AuditEntry): HTMLTableRowElement {
  const { target } = entry;
  const aimed = [
    target.room === undefined ? "" : `#${target.room}`,
    target.user === undefined ? "" : `user ${target.user}`,
    target.message === undefined ? "" : `message ${target.message}`,
  ].filter(Boolean);
  const details = Object.entries(entry.data)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(", ");
  return h(
    "tr",
    {
      "data-testid": "audit-entry",
      "data-seq": entry.seq,
      "data-action": entry.action,
      class: entry.action === "auth.sign_in_failed" ? "bad" : undefined,
    },
    h(
      "td",
      {},
      h(
        "time",
        { datetime: new Date(entry.at).toISOString() },
        new Date(entry.at).toLocaleString(),
      ),
    ),
    h(
      "th",
      { scope: "row", title: entry.actor.id || "no account proven" },
      entry.actor.id ? entry.actor.name : `${entry.actor.name} (unproven)`,
    ),
    h("td", { class: "mono" }, entry.action),
    h("td", { class: "wrap" }, aimed.join(", ")),
    h("td", { class: "mono", "data-testid": "audit-ip" }, entry.ip ?? "–"),
    h("td", { class: "wrap" }, details),
  );
}
