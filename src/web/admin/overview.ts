import { ApiError, type Overview } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "../context.ts";
import { h, replace } from "../dom.ts";
import { Chart, loadCharts } from "./charts.ts";
import { chartTimes, overviewCharts, overviewTiles } from "./overview-data.ts";
import { poll } from "./poll.ts";
import { activityCells, reportTable } from "./tables.ts";

/** How often the overview asks while the page is visible (the metrics' windows are longer). */
const EVERY_MS = 3_000;

/**
 * The dashboard's Overview (`GET /api/admin/overview`, docs/observability.md): number tiles
 * for now, charts of the last hour, and the busiest rooms, each opening the room; refreshed
 * every 3 s while the page is visible, built on the same numbers as `/metrics`.
 */
export function overviewSection(ctx: AppContext): View {
  const status = h("p", { class: "hint", "data-testid": "overview-updated" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "overview-error",
    hidden: true,
  });
  const tiles = h("div", { class: "tiles", "data-testid": "tiles" });
  const charts = new Map<string, Chart>();
  const chartGrid = h("div", { class: "charts" });
  const busiestBody = h("tbody", { "data-testid": "busiest-rooms" });
  const busiest = h(
    "section",
    { class: "card", "aria-labelledby": "busiest-title" },
    h("h2", { id: "busiest-title" }, "Busiest rooms"),
    h("p", { class: "hint" }, "By events in the last five minutes, then by sockets open."),
    reportTable(["Room", "Sockets", "Events (5 min)", "Last active"], busiestBody, "Busiest rooms"),
  );
  const el = h(
    "div",
    { class: "admin-section overview" },
    status,
    problem,
    tiles,
    chartGrid,
    busiest,
  );

  function show(overview: Overview, UPlot: Awaited<ReturnType<typeof loadCharts>>): void {
    replace(
      tiles,
      ...overviewTiles(overview.now).map((tile) =>
        h(
          "div",
          {
            class: "tile",
            "data-testid": `tile-${tile.key}`,
            "data-value": tile.value === null ? "" : String(tile.value),
          },
          h("span", { class: "tile-label" }, tile.label),
          h("span", { class: "tile-value" }, tile.text),
        ),
      ),
    );
    const x = chartTimes(overview.series);
    for (const spec of overviewCharts(overview.series)) {
      let chart = charts.get(spec.id);
      if (!chart) {
        chart = new Chart(UPlot, spec);
        charts.set(spec.id, chart);
        chartGrid.append(chart.el);
      }
      chart.update(x, spec);
    }
    const now = Date.now();
    replace(
      busiestBody,
      ...(overview.busiestRooms.length
        ? overview.busiestRooms.map((room) =>
            h("tr", { "data-room": room.name }, ...activityCells(room, now)),
          )
        : [h("tr", {}, h("td", { colspan: 4, class: "hint" }, "No room is active."))]),
    );
    status.textContent = `Updated ${new Date(overview.at).toLocaleTimeString()} · every ${EVERY_MS / 1000} s while shown`;
  }

  async function refresh(): Promise<boolean> {
    try {
      const [overview, UPlot] = await Promise.all([
        ctx.call((api) => api.admin.overview()),
        loadCharts(),
      ]);
      if (disposed) return false;
      show(overview, UPlot);
      problem.hidden = true;
      return true;
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return false;
      problem.textContent =
        error instanceof ApiError && error.status === 404
          ? "This server has no overview yet (GET /api/admin/overview is missing)."
          : `Could not refresh: ${errorText(error)}`;
      problem.hidden = false;
      return !(error instanceof ApiError && (error.status === 403 || error.status === 404));
    }
  }

  let disposed = false;
  const poller = poll(refresh, EVERY_MS);
  return {
    el,
    dispose() {
      disposed = true;
      poller.dispose();
      for (const chart of charts.values()) chart.dispose();
    },
  };
}
