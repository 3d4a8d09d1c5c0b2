import {
  BUCKETS,
  METRICS,
  type CounterName,
  type HistogramName,
  type LabelsOf,
  type MetricName,
} from "./catalogue.ts";

/** One histogram's counts per bucket (not cumulative; the last is +Inf), sum and count. */
export type HistogramCounts = { buckets: number[]; sum: number; count: number };

/**
 * What a meter counted since it was last taken: counters and histograms by series key
 * (`name{label="value",…}`, the catalogue's label order). Plain data: it crosses a Durable
 * Object RPC as it is, and adding two deltas is adding their numbers.
 */
export type Delta = {
  counters: Record<string, number>;
  histograms: Record<string, HistogramCounts>;
};

export const emptyDelta = (): Delta => ({ counters: {}, histograms: {} });

/** Prometheus' escaping of a label value: backslash, double quote and newline. */
export const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The series key of `name` with `labels`, labels in the catalogue's order. */
export function seriesKey<N extends MetricName>(name: N, labels: LabelsOf<N>): string {
  const names: readonly string[] = METRICS[name].labels;
  if (names.length === 0) return name;
  const values = labels as Record<string, string>;
  return `${name}{${names.map((label) => `${label}="${escapeLabel(values[label] ?? "")}"`).join(",")}}`;
}

/** The metric name of a series key. */
export const metricOf = (key: string): MetricName => key.split("{", 1)[0] as MetricName;

/** The bucket an observation of `seconds` falls in (BUCKETS.length is +Inf). */
export function bucketOf(seconds: number): number {
  const index = BUCKETS.findIndex((bound) => seconds <= bound);
  return index < 0 ? BUCKETS.length : index;
}

/** Adds `from` into `into`. */
export function addDelta(into: Delta, from: Delta): Delta {
  for (const [key, value] of Object.entries(from.counters))
    into.counters[key] = (into.counters[key] ?? 0) + value;
  for (const [key, counts] of Object.entries(from.histograms)) {
    const total = (into.histograms[key] ??= emptyHistogram());
    counts.buckets.forEach((n, i) => (total.buckets[i] = (total.buckets[i] ?? 0) + n));
    total.sum += counts.sum;
    total.count += counts.count;
  }
  return into;
}

export const emptyHistogram = (): HistogramCounts => ({
  buckets: Array.from({ length: BUCKETS.length + 1 }, () => 0),
  sum: 0,
  count: 0,
});

/**
 * Counts in memory until taken: a room's between two pushes, an isolate's between two
 * shipments. Cheap enough for the hot path: a map lookup per count.
 */
export class Meter {
  #delta = emptyDelta();
  #empty = true;

  count<N extends CounterName>(name: N, labels: LabelsOf<N>, by = 1): void {
    if (by === 0) return;
    const key = seriesKey(name, labels);
    this.#delta.counters[key] = (this.#delta.counters[key] ?? 0) + by;
    this.#empty = false;
  }

  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void {
    const counts = (this.#delta.histograms[seriesKey(name, labels)] ??= emptyHistogram());
    counts.buckets[bucketOf(seconds)]! += 1;
    counts.sum += seconds;
    counts.count += 1;
    this.#empty = false;
  }

  get empty(): boolean {
    return this.#empty;
  }

  /** What was counted since the last take, and a fresh start. */
  take(): Delta {
    const delta = this.#delta;
    this.#delta = emptyDelta();
    this.#empty = true;
    return delta;
  }

  /** Puts back a delta that could not be delivered, so that nothing counted is lost. */
  restore(delta: Delta): void {
    addDelta(this.#delta, delta);
    this.#empty &&=
      Object.keys(delta.counters).length === 0 && Object.keys(delta.histograms).length === 0;
  }
}
