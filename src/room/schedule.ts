/** The room's scheduled tasks; the alarm runs them through a table keyed by `Task`. */
const TASKS = [
  "expire-commands",
  "notify-directory",
  "flush",
  "push-metrics",
  "feed-integrations",
  "clock",
] as const;
export type Task = (typeof TASKS)[number];
const isTask = (name: string): name is Task => (TASKS as readonly string[]).includes(name);

/**
 * A Durable Object has one alarm; this keeps a table of named tasks and points the alarm at
 * the earliest. Handlers must be idempotent: alarms are delivered at least once.
 */
export class Schedule {
  readonly #storage: DurableObjectStorage;
  /** The alarm time last set by this instance, so that a busy room does not rewrite it per command. */
  #armed: number | null | undefined;
  /** Due times this instance knows are stored, so that asking again for a later time writes nothing. */
  readonly #known = new Map<Task, number>();
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  /** Runs `task` at `due` or earlier if it is already scheduled earlier. */
  at(task: Task, due: number): void {
    if ((this.#known.get(task) ?? Infinity) <= due) return;
    this.#known.set(task, due);
    this.#storage.sql.exec(
      "INSERT INTO schedule (task, due) VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET due = min(due, excluded.due)",
      task,
      due,
    );
    this.#arm();
  }

  /** When `task` is due, or undefined when it is not on the schedule. */
  dueOf(task: Task): number | undefined {
    return this.#storage.sql
      .exec<{ due: number }>("SELECT due FROM schedule WHERE task = ?", task)
      .toArray()[0]?.due;
  }

  /** Takes the tasks due at `now` off the schedule and returns their names. */
  takeDue(now: number): Task[] {
    // A name no version of this code knows (a task since removed) is dropped with the rest.
    const due = this.#storage.sql
      .exec<{ task: string }>("DELETE FROM schedule WHERE due <= ? RETURNING task", now)
      .toArray()
      .map((row) => row.task)
      .filter(isTask);
    for (const task of due) this.#known.delete(task);
    this.#arm();
    return due;
  }

  #arm(): void {
    const next = this.#storage.sql
      .exec<{ due: number | null }>("SELECT min(due) AS due FROM schedule")
      .one().due;
    if (next === this.#armed) return;
    this.#armed = next;
    // Storage writes are covered by the output gate: no await needed for durability.
    void (next === null ? this.#storage.deleteAlarm() : this.#storage.setAlarm(next));
  }
}
