import { nextCronTime } from "../automation/cron.ts";
import type { ActivePlugin } from "../plugins/registry-object.ts";
import type { ClockSource, Firing as ClockFiring } from "./clock.ts";

type JobRow = { plugin: string; job: string; spec: string; at: number };
type JobSpec = { cron: string; timeZone: string };

/**
 * The scheduled jobs of the plugins running in a room (docs/plugins.md), one of the clock's
 * sources: each job's next time in `plugin_jobs`. A due time is run by `run` (the job and its
 * actions, keyed by that time, so that an alarm delivered again acts once), then the job moves to
 * its next time after now; a job whose plugin is gone loses its row.
 */
export class PluginJobs implements ClockSource {
  readonly name = "plugin-jobs";
  readonly #sql: SqlStorage;
  readonly #run: (row: { plugin: string; job: string; at: number }) => Promise<boolean>;
  readonly #changed: () => void;

  /** `run` answers whether the job's plugin still runs here. */
  constructor(
    sql: SqlStorage,
    run: (row: { plugin: string; job: string; at: number }) => Promise<boolean>,
    changed: () => void,
  ) {
    this.#sql = sql;
    this.#run = run;
    this.#changed = changed;
  }

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM plugin_jobs").one().at ??
      undefined
    );
  }

  due(now: number, limit: number): ClockFiring[] {
    return this.#sql
      .exec<JobRow>("SELECT * FROM plugin_jobs WHERE at <= ? ORDER BY at LIMIT ?", now, limit)
      .toArray()
      .map((row) => ({ at: row.at, fire: () => this.#fire(row) }));
  }

  /** The jobs of the plugins turned on here (`on`) get a row each; a gone or changed job loses its row. */
  sync(active: readonly ActivePlugin[], on: ReadonlySet<string>, now: number): void {
    const wanted = new Map<string, { plugin: string; job: string; spec: string }>();
    for (const plugin of active)
      if (on.has(plugin.ref.id))
        for (const job of plugin.manifest.jobs) {
          const spec = JSON.stringify({ cron: job.cron, timeZone: job.timeZone });
          wanted.set(`${plugin.ref.id}\n${job.name}`, {
            plugin: plugin.ref.id,
            job: job.name,
            spec,
          });
        }
    let changed = false;
    for (const row of this.#sql.exec<JobRow>("SELECT * FROM plugin_jobs").toArray()) {
      const key = `${row.plugin}\n${row.job}`;
      if (wanted.get(key)?.spec === row.spec) wanted.delete(key);
      else {
        this.#sql.exec("DELETE FROM plugin_jobs WHERE plugin = ? AND job = ?", row.plugin, row.job);
        changed = true;
      }
    }
    for (const job of wanted.values()) {
      const spec = JSON.parse(job.spec) as JobSpec;
      const at = nextCronTime(spec.cron, spec.timeZone, now);
      if (at === undefined) continue;
      this.#sql.exec(
        "INSERT INTO plugin_jobs VALUES (?, ?, ?, ?)",
        job.plugin,
        job.job,
        job.spec,
        at,
      );
      changed = true;
    }
    if (changed) this.#changed();
  }

  async #fire(row: JobRow): Promise<void> {
    const runs = await this.#run(row);
    const spec = JSON.parse(row.spec) as JobSpec;
    const next = runs
      ? nextCronTime(spec.cron, spec.timeZone, Math.max(row.at, Date.now()))
      : undefined;
    if (next === undefined)
      this.#sql.exec(
        "DELETE FROM plugin_jobs WHERE plugin = ? AND job = ? AND at = ?",
        row.plugin,
        row.job,
        row.at,
      );
    else
      this.#sql.exec(
        "UPDATE plugin_jobs SET at = ? WHERE plugin = ? AND job = ? AND at = ?",
        next,
        row.plugin,
        row.job,
        row.at,
      );
  }
}
