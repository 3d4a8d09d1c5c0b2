import type { EdgechatApi, Reminder } from "../../client/index.ts";

/**
 * The Schedules panel's reminder calls, on the SDK's `api.reminders(room)` (docs/automation.md,
 * "Schedules and reminders"): yours (and for moderators the room's `here` ones), a new one, a
 * cancel.
 */
export type NewReminder =
  | { to: "me" | "here"; text: string; at: number }
  | { to: "me" | "here"; text: string; cron: string; timeZone: string };

export type RemindersCalls = {
  list(): Promise<Reminder[]>;
  create(input: NewReminder): Promise<Reminder>;
  cancel(id: string): Promise<void>;
};

export function remindersCalls(api: EdgechatApi, room: string): RemindersCalls {
  const reminders = api.reminders(room);
  return {
    list: async () => (await reminders.list()).reminders,
    create: (input) => reminders.create(input),
    cancel: async (id) => void (await reminders.cancel(id)),
  };
}
