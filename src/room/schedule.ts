/**
 * A Durable Object has one alarm; this keeps a table of named tasks and points the alarm at
 * the earliest. Handlers must be idempotent: alarms are delivered at least once.
 */
export class Schedule {
  readonly #storage: DurableObjectStorage;
  /** The alarm time last set by this instance, so that a busy room does not rewrite it per command. */
  #armed: number | null | undefined;
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  /** Runs `task` at `due` or earlier if it is already scheduled earlier. */
  at(task: string, due: number): void {
    this.#storage.sql.exec(
      "INSERT INTO schedule (task, due) VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET due = min(due, excluded.due)",
      task,
      due,
    );
    this.#arm();
  }

  /** Takes the tasks due at `now` off the schedule and returns their names. */
  takeDue(now: number): string[] {
    const due = this.#storage.sql
      .exec<{ task: string }>("DELETE FROM schedule WHERE due <= ? RETURNING task", now)
      .toArray()
      .map((row) => row.task);
    this.#arm();
    return due;
  }

  #arm(): void {
    const next = this.#storage.sql.exec<{ due: number | null }>("SELECT min(due) AS due FROM schedule").one().due;
    if (next === this.#armed) return;
    this.#armed = next;
    // Storage writes are covered by the output gate: no await needed for durability.
    void (next === null ? this.#storage.deleteAlarm() : this.#storage.setAlarm(next));
  }
}
