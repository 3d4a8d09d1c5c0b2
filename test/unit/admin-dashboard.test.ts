import { describe, expect, it } from "vitest";
import type { OverviewSeries } from "../../src/protocol/index.ts";
import {
  agoText,
  chartTimes,
  isolatedIndices,
  msText,
  overviewCharts,
  overviewTiles,
  rateText,
} from "../../src/web/admin/overview-data.ts";
import { adminHref, currentRoute, moderateHref } from "../../src/web/route.ts";

describe("the overview's numbers", () => {
  it("writes rates, durations and ages as people read them", () => {
    expect([0, 0.042, 0.5, 2.25, 10.4, 1234].map(rateText)).toEqual([
      "0",
      "0.04",
      "0.5",
      "2.3",
      "10",
      "1234",
    ]);
    expect([null, 0.42, 12.4, 1800].map(msText)).toEqual(["–", "0.4 ms", "12 ms", "1.8 s"]);
    const now = 1_000_000_000;
    expect(
      [
        null,
        now - 1000,
        now - 42_000,
        now - 5 * 60_000,
        now - 3 * 3_600_000,
        now - 2 * 86_400_000,
      ].map((at) => agoText(at, now)),
    ).toEqual(["never", "now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"]);
  });

  it("has a tile for each number of now, replica lag saying when there are no replicas", () => {
    const tiles = overviewTiles({
      roomsActive: 3,
      socketsOpen: 7,
      messagesPerSecond: 1.5,
      commandsPerSecond: 2,
      flushBacklog: 1,
      replicaLagMs: null,
    });
    expect(tiles.map((t) => [t.key, t.text])).toEqual([
      ["rooms", "3"],
      ["sockets", "7"],
      ["messages", "1.5"],
      ["commands", "2.0"],
      ["backlog", "1 event"],
      ["replica-lag", "no replicas"],
    ]);
    expect(tiles.find((t) => t.key === "replica-lag")?.value).toBeNull();
  });

  const series: OverviewSeries = {
    windowSeconds: 60,
    at: [60_000, 120_000],
    messagesPerSecond: [1, 2],
    commandsPerSecond: [2, 3],
    deliveriesPerSecond: [4, 6],
    refusalsPerSecond: { rate_limited: [0, 1], forbidden: [0.5, 0] },
    errorsPerSecond: { not_found: [0, 0.2] },
    socketsOpen: [5, 6],
    roomsActive: [1, 2],
    commitMs: { p50: [1, null], p95: [2, null], p99: [3, null] },
    fanoutMs: { p50: [0.5, 0.4], p95: [1, 1], p99: [2, 2] },
  };

  it("charts every series of the last hour, refusals and errors one line per code", () => {
    const charts = overviewCharts(series);
    expect(charts.map((c) => c.id)).toEqual(["rates", "problems", "commit", "fanout", "load"]);
    expect(charts[1]!.series).toEqual([
      { label: "refused forbidden", values: [0.5, 0] },
      { label: "refused rate_limited", values: [0, 1] },
      { label: "error not_found", values: [0, 0.2] },
    ]);
    expect(charts[2]!.series.map((s) => s.label)).toEqual(["p50", "p95", "p99"]);
    expect(charts[2]!.series[0]!.values).toEqual([1, null]);
    expect(chartTimes(series)).toEqual([60, 120]);
  });

  it("finds the lone values a line would not show", () => {
    expect(isolatedIndices([null, 3, null, 1, 2, null, 5])).toEqual([1, 6]);
    expect(isolatedIndices([4])).toEqual([0]);
    expect(isolatedIndices([1, 2, 3])).toEqual([]);
    expect(isolatedIndices([null, undefined])).toEqual([]);
  });

  it("draws a zero line when nothing was refused", () => {
    const quiet = overviewCharts({ ...series, refusalsPerSecond: {}, errorsPerSecond: {} });
    expect(quiet[1]!.series).toEqual([{ label: "none", values: [0, 0] }]);
  });
});

describe("the dashboard's addresses", () => {
  it("reads each section, a user in Users, and a room to moderate", () => {
    expect(currentRoute("#/admin")).toEqual({ view: "admin", section: "overview" });
    expect(currentRoute("#/admin/rooms")).toEqual({ view: "admin", section: "rooms" });
    expect(currentRoute("#/admin/users/ada.b")).toEqual({
      view: "admin",
      section: "users",
      name: "ada.b",
    });
    expect(currentRoute("#/admin/nope")).toEqual({ view: "admin", section: "overview" });
    expect(currentRoute("#/room/lobby/people")).toEqual({
      view: "room",
      room: "lobby",
      people: true,
    });
    expect(currentRoute("#/room/lobby")).toEqual({ view: "room", room: "lobby" });
    expect(currentRoute("#/search/a%20b")).toEqual({ view: "search", q: "a b" });
    expect(currentRoute("#/room/%E0")).toEqual({ view: "rooms" });
  });

  it("writes them back", () => {
    expect(adminHref("overview")).toBe("#/admin");
    expect(adminHref("users", "ada b")).toBe("#/admin/users/ada%20b");
    expect(moderateHref("lobby")).toBe("#/room/lobby/people");
    for (const hash of [adminHref("audit"), adminHref("users", "x_y"), moderateHref("a-b")])
      expect(currentRoute(hash).view).not.toBe("rooms");
  });
});
