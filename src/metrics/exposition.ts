import { BUCKETS, GAUGES, METRICS, PREFIX, type Gauge, type MetricName } from "./catalogue.ts";
import { escapeLabel, metricOf, type Delta } from "./meter.ts";

/** The content type of the Prometheus text format this renders. */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `{a="x",…}` with `extra` appended (a histogram's `le`); empty for no labels. */
function withLabel(key: string, extra?: string): string {
  const open = key.indexOf("{");
  const labels = open < 0 ? "" : key.slice(open + 1, -1);
  const all = [labels, extra].filter(Boolean).join(",");
  return all ? `{${all}}` : "";
}

/** A number as Prometheus writes it. */
const number = (value: number) =>
  Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";

/**
 * The Prometheus text format (version 0.0.4) of cumulative `totals` and the `gauges`: one
 * HELP and TYPE per metric, its series sorted, histograms as cumulative `_bucket`s with `le`,
 * `_sum` and `_count`. Every catalogued counter appears, with no series when nothing was counted
 * yet, so that a dashboard's queries find the metric from the first scrape.
 */
export function render(totals: Delta, gauges: readonly Gauge[]): string {
  const lines: string[] = [];
  const byMetric = new Map<MetricName, string[]>();
  for (const key of [...Object.keys(totals.counters), ...Object.keys(totals.histograms)])
    byMetric.set(metricOf(key), [...(byMetric.get(metricOf(key)) ?? []), key]);
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const definition = METRICS[name];
    lines.push(`# HELP ${PREFIX}${name} ${definition.help}`);
    lines.push(`# TYPE ${PREFIX}${name} ${definition.kind}`);
    for (const key of (byMetric.get(name) ?? []).sort()) {
      if (definition.kind === "counter") {
        lines.push(`${PREFIX}${name}${withLabel(key)} ${number(totals.counters[key]!)}`);
        continue;
      }
      const counts = totals.histograms[key]!;
      let cumulative = 0;
      counts.buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < BUCKETS.length ? String(BUCKETS[i]) : "+Inf";
        lines.push(`${PREFIX}${name}_bucket${withLabel(key, `le="${le}"`)} ${cumulative}`);
      });
      lines.push(`${PREFIX}${name}_sum${withLabel(key)} ${number(counts.sum)}`);
      lines.push(`${PREFIX}${name}_count${withLabel(key)} ${counts.count}`);
    }
  }
  for (const name of Object.keys(GAUGES) as (keyof typeof GAUGES)[]) {
    const series = gauges.filter((gauge) => gauge.name === name);
    if (series.length === 0) continue;
    lines.push(`# HELP ${PREFIX}${name} ${GAUGES[name].help}`);
    lines.push(`# TYPE ${PREFIX}${name} gauge`);
    for (const gauge of series) {
      const labels = Object.entries(gauge.labels ?? {})
        .map(([label, value]) => `${label}="${escapeLabel(value)}"`)
        .join(",");
      lines.push(`${PREFIX}${name}${labels ? `{${labels}}` : ""} ${number(gauge.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
