import type { Overview, OverviewSeries } from "../../client/index.ts";

/**
 * The overview's numbers as the dashboard shows them (overview.ts): tiles and chart series,
 * pure so that unit tests read them without a browser.
 */

export type Tile = {
  key: "rooms" | "sockets" | "messages" | "commands" | "backlog" | "replica-lag";
  label: string;
  /** The raw value (null: not applicable here), for tests and titles. */
  value: number | null;
  text: string;
};

/** A rate per second: whole numbers from 10 up, one decimal below, two below 0.1. */
export function rateText(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond >= 10) return String(Math.round(perSecond));
  if (perSecond >= 0.1) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

/** Milliseconds as people read them: "0.4 ms", "12 ms", "1.8 s"; a dash for none. */
export function msText(ms: number | null): string {
  if (ms === null) return "–";
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** How long ago `at` was, roughly: "now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function agoText(at: number | null, now: number): string {
  if (at === null) return "never";
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 5) return "now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export function overviewTiles(now: Overview["now"]): Tile[] {
  return [
    { key: "rooms", label: "Rooms active", value: now.roomsActive, text: String(now.roomsActive) },
    {
      key: "sockets",
      label: "Sockets open",
      value: now.socketsOpen,
      text: String(now.socketsOpen),
    },
    {
      key: "messages",
      label: "Messages / s",
      value: now.messagesPerSecond,
      text: rateText(now.messagesPerSecond),
    },
    {
      key: "commands",
      label: "Commands / s",
      value: now.commandsPerSecond,
      text: rateText(now.commandsPerSecond),
    },
    {
      key: "backlog",
      label: "Flush backlog",
      value: now.flushBacklog,
      text: `${now.flushBacklog} ${now.flushBacklog === 1 ? "event" : "events"}`,
    },
    {
      key: "replica-lag",
      label: "Replica lag",
      value: now.replicaLagMs,
      text: now.replicaLagMs === null ? "no replicas" : msText(now.replicaLagMs),
    },
  ];
}

export type ChartSeries = { label: string; values: (number | null)[] };
export type ChartSpec = {
  id: "rates" | "problems" | "commit" | "fanout" | "load";
  title: string;
  /** The y axis's unit, after each value. */
  unit: string;
  series: ChartSeries[];
};

/** Refusals and errors by code, one series each; a flat zero line when there were none. */
function problemSeries(series: OverviewSeries): ChartSeries[] {
  const byCode = (prefix: string, record: Record<string, number[]>) =>
    Object.keys(record)
      .sort()
      .map((code) => ({ label: `${prefix} ${code}`, values: record[code]! }));
  const all = [
    ...byCode("refused", series.refusalsPerSecond),
    ...byCode("error", series.errorsPerSecond),
  ];
  return all.length ? all : [{ label: "none", values: series.at.map(() => 0) }];
}

/** The overview's charts, in the order shown; x is `series.at` in seconds (uPlot's time). */
export function overviewCharts(series: OverviewSeries): ChartSpec[] {
  const percentiles = (p: OverviewSeries["commitMs"]): ChartSeries[] => [
    { label: "p50", values: p.p50 },
    { label: "p95", values: p.p95 },
    { label: "p99", values: p.p99 },
  ];
  return [
    {
      id: "rates",
      title: "Messages and commands per second",
      unit: "/s",
      series: [
        { label: "messages", values: series.messagesPerSecond },
        { label: "commands", values: series.commandsPerSecond },
      ],
    },
    {
      id: "problems",
      title: "Refusals and errors per second, by code",
      unit: "/s",
      series: problemSeries(series),
    },
    { id: "commit", title: "Commit latency", unit: "ms", series: percentiles(series.commitMs) },
    { id: "fanout", title: "Fan-out latency", unit: "ms", series: percentiles(series.fanoutMs) },
    {
      id: "load",
      title: "Sockets open and rooms active",
      unit: "",
      series: [
        { label: "sockets open", values: series.socketsOpen },
        { label: "rooms active", values: series.roomsActive },
      ],
    },
  ];
}

/** uPlot's x values: the windows' ends in seconds. */
export const chartTimes = (series: OverviewSeries): number[] => series.at.map((ms) => ms / 1000);

/**
 * The values a line cannot show: those with no value on either side (a lone busy window among
 * idle ones). The charts draw them as dots.
 */
export function isolatedIndices(values: readonly (number | null | undefined)[]): number[] {
  const missing = (i: number) => values[i] === null || values[i] === undefined;
  return values.flatMap((_, i) => (!missing(i) && missing(i - 1) && missing(i + 1) ? [i] : []));
}
