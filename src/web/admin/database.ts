import { ApiError, type AdminApi } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "../context.ts";
import { h, replace } from "../dom.ts";
import { poll } from "./poll.ts";
import { reportTable, num } from "./tables.ts";

type Replicas = Awaited<ReturnType<AdminApi["replicas"]>>;
type Node = Replicas["nodes"][number];
type Backlog = Awaited<ReturnType<AdminApi["backlog"]>>;

const EVERY_MS = 2_000;

/**
 * The dashboard's Database section: each database node's health and replication lag, and the
 * events the rooms have not flushed to Postgres yet, refreshed every 2 s while the page is
 * visible. Without Postgres it says so once and stops asking.
 */
export function databaseSection(ctx: AppContext): View {
  const status = h("p", { class: "hint", "data-testid": "admin-updated" });
  const problem = h("div", {
    class: "flash",
    role: "alert",
    "data-testid": "admin-error",
    hidden: true,
  });
  const nodesBody = h("tbody", { "data-testid": "nodes" });
  const maxLag = h("p", { class: "hint", "data-testid": "max-lag" });
  const total = h("p", { class: "total", "data-testid": "backlog-total" });
  const roomsBody = h("tbody", { "data-testid": "backlog-rooms" });
  const nodes = h(
    "section",
    { class: "card", "aria-labelledby": "nodes-title" },
    h("h2", { id: "nodes-title" }, "Database nodes"),
    maxLag,
    reportTable(
      ["Node", "Role", "Health", "Lag", "Lag (bytes)", "Replay LSN", "Notes"],
      nodesBody,
      "Database nodes",
    ),
  );
  const backlog = h(
    "section",
    { class: "card", "aria-labelledby": "backlog-title" },
    h("h2", { id: "backlog-title" }, "Flush backlog"),
    total,
    reportTable(
      ["Room", "Last seq", "Flushed", "Backlog", "Attempts", "Last error"],
      roomsBody,
      "Flush backlog per room",
    ),
  );
  const el = h("div", { class: "admin-section" }, status, problem, nodes, backlog);

  function fail(message: string): void {
    replace(problem, h("p", {}, message));
    problem.hidden = false;
  }

  async function refresh(): Promise<boolean> {
    try {
      const [replicas, flush] = await Promise.all([
        ctx.call((api) => api.admin.replicas()),
        ctx.call((api) => api.admin.backlog()),
      ]);
      problem.hidden = true;
      nodes.hidden = backlog.hidden = false;
      showNodes(replicas);
      showBacklog(flush);
      status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      return true;
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return false;
      if (
        error instanceof ApiError &&
        error.status === 503 &&
        /without Postgres/i.test(error.message)
      ) {
        // Nothing to watch: this will not change until the server restarts with a database.
        nodes.hidden = backlog.hidden = true;
        fail(
          `This server runs without Postgres: no replicas and no backlog to show. (${error.message})`,
        );
        return false;
      }
      if (error instanceof ApiError && error.status === 403) {
        nodes.hidden = backlog.hidden = true;
        fail(`For instance admins only (${error.message}).`);
        return false;
      }
      fail(`Could not refresh: ${errorText(error)}`);
      return true;
    }
  }

  function showNodes(report: Replicas): void {
    maxLag.textContent = `Replicas further behind than ${report.maxLagMs} ms are skipped for reads.`;
    replace(nodesBody, ...report.nodes.map(nodeRow));
  }

  function showBacklog(report: Backlog): void {
    total.textContent =
      report.total === 0
        ? "Total: 0 events waiting: every room is in Postgres."
        : `Total: ${report.total} ${report.total === 1 ? "event" : "events"} waiting to be flushed`;
    total.setAttribute("data-total", String(report.total));
    const rooms = [...report.rooms].sort(
      (a, b) => b.backlog - a.backlog || a.name.localeCompare(b.name),
    );
    replace(
      roomsBody,
      ...(rooms.length
        ? rooms.map((room) =>
            h(
              "tr",
              { "data-room": room.name, class: room.lastError ? "bad" : undefined },
              h("th", { scope: "row" }, `#${room.name}`),
              num(room.lastSeq),
              num(room.flushedSeq),
              num(room.backlog),
              num(room.attempts),
              h("td", { class: "wrap" }, room.lastError ?? ""),
            ),
          )
        : [h("tr", {}, h("td", { colspan: 6, class: "hint" }, "No rooms yet."))]),
    );
  }

  const poller = poll(refresh, EVERY_MS);
  return { el, dispose: () => poller.dispose() };
}

function nodeRow(node: Node): HTMLTableRowElement {
  const notes = [
    node.paused ? "replay paused" : "",
    node.openUntil > Date.now()
      ? `skipped until ${new Date(node.openUntil).toLocaleTimeString()}`
      : "",
    node.error ?? "",
  ].filter(Boolean);
  return h(
    "tr",
    {
      "data-testid": "node",
      "data-role": node.role,
      "data-healthy": String(node.healthy),
      class: node.healthy ? undefined : "bad",
    },
    h("th", { scope: "row" }, nodeName(node.url)),
    h("td", {}, node.role),
    h(
      "td",
      { "data-testid": "node-health" },
      h("span", { class: node.healthy ? "dot on" : "dot bad", "aria-hidden": "true" }),
      node.healthy ? " healthy" : " down",
    ),
    h(
      "td",
      { class: "num", "data-testid": "node-lag" },
      node.lagMs === null ? "–" : `${Math.round(node.lagMs)} ms`,
    ),
    num(node.lagBytes),
    h("td", { class: "mono" }, node.replayLsn ?? "–"),
    h("td", { class: "wrap" }, notes.join("; ")),
  );
}

/**
 * host:port/database. The server already reports nodes that way; should a full connection
 * string ever come through, its user and password are cut off here too.
 */
export function nodeName(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]+)(\/[^?#]*)?/i.exec(url);
  if (match) return `${match[1]}${match[2] ?? ""}`;
  return url.includes("@") ? "(node)" : url;
}
