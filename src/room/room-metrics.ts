import type { RoomEvent } from "../protocol/index.ts";
import type { CounterName, HistogramName, LabelsOf } from "../metrics/catalogue.ts";
import { Meter, type Delta } from "../metrics/meter.ts";
import type { RoomReport } from "../metrics/room-report.ts";
import { errorFields, log } from "../telemetry/log.ts";

export type RoomMetricsParts = {
  /** Off (METRICS_ENABLED=false): nothing is counted and nothing pushed. */
  enabled: boolean;
  /** How long counts wait in the room before they are pushed (METRICS_PUSH_MS). */
  pushMs: number;
  /** Puts the push on the room's alarm. */
  schedule: (at: number) => void;
  /** The room's gauges now, for the report. */
  report: () => Omit<RoomReport, "events"> | undefined;
  /** Hands the counts to the room's metrics object. */
  push: (delta: Delta, report: RoomReport | undefined) => Promise<void>;
};

/**
 * A room's counts between two pushes to its metrics object. The first count after a push puts
 * the next push on the room's alarm, PUSH_MS later; a room that is idle counts nothing, so its
 * alarm is not set and it hibernates undisturbed (docs/observability.md, "Aggregation").
 */
export class RoomMetrics {
  readonly #parts: RoomMetricsParts;
  readonly #meter = new Meter();
  #events = 0;
  #due = false;

  constructor(parts: RoomMetricsParts) {
    this.#parts = parts;
  }

  count<N extends CounterName>(name: N, labels: LabelsOf<N>, by = 1): void {
    if (!this.#parts.enabled || by === 0) return;
    this.#meter.count(name, labels, by);
    this.changed();
  }

  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void {
    if (!this.#parts.enabled) return;
    this.#meter.observe(name, labels, seconds);
    this.changed();
  }

  appended(events: readonly RoomEvent[]): void {
    for (const event of events) this.count("events_appended_total", { type: event.type });
    this.#events += events.length;
  }

  /** Something the report shows changed (a socket opened or closed): push it. */
  changed(): void {
    if (!this.#parts.enabled || this.#due) return;
    this.#due = true;
    this.#parts.schedule(Date.now() + this.#parts.pushMs);
  }

  /** The alarm's task: the counts and the report to the metrics object; kept for later on failure. */
  async push(): Promise<void> {
    this.#due = false;
    if (!this.#parts.enabled) return;
    const delta = this.#meter.take();
    const events = this.#events;
    this.#events = 0;
    const report = this.#parts.report();
    try {
      await this.#parts.push(delta, report && { ...report, events });
    } catch (error) {
      this.#meter.restore(delta);
      this.#events += events;
      log.warn("metrics not pushed, will retry", { error: errorFields(error) });
      this.changed();
    }
  }
}
