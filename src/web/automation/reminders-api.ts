import * as z from "zod";
import { Reminder, type EdgechatApi } from "../../client/index.ts";
import { ApiRequests } from "../../client/requests.ts";

/**
 * The Schedules panel's reminder calls, in one place until the SDK's `api.reminders(room)`
 * lands: yours (and for moderators the room's `here` ones), a new one, a cancel
 * (docs/automation.md, "Schedules and reminders").
 */
export type NewReminder =
  | { to: "me" | "here"; text: string; at: number }
  | { to: "me" | "here"; text: string; cron: string; timeZone: string };

export type RemindersCalls = {
  list(): Promise<Reminder[]>;
  create(input: NewReminder): Promise<Reminder>;
  cancel(id: string): Promise<void>;
};

const ReminderList = z.object({ reminders: z.array(Reminder) });

export function remindersCalls(api: EdgechatApi, room: string): RemindersCalls {
  const requests = new ApiRequests(api.baseUrl, api.token);
  const base = `/api/rooms/${encodeURIComponent(room)}/reminders`;
  return {
    list: async () => (await requests.call(ReminderList, "GET", base)).reminders,
    create: (input) => requests.call(Reminder, "POST", base, input),
    cancel: (id) => requests.send("DELETE", `${base}/${encodeURIComponent(id)}`),
  };
}
