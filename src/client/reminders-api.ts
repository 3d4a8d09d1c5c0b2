import type * as z from "zod";
import { Reminder } from "../protocol/automation.ts";
import { ReminderList, type NewReminder } from "../protocol/reminders.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * A room's reminders (docs/automation.md, "Schedules and reminders"): yours, and for the room's
 * moderators its `here` ones too (`api.reminders(room)`).
 * @example
 * const reminder = await api.reminders("ops").create({ to: "me", text: "check the deploy", at: Date.now() + 7_200_000 });
 * await api.reminders("ops").cancel(reminder.id);
 */
export class RemindersApi {
  readonly #requests: ApiRequests;
  readonly #base: string;
  constructor(requests: ApiRequests, room: string) {
    this.#requests = requests;
    this.#base = `/api/rooms/${encodeURIComponent(room)}/reminders`;
  }

  /** Soonest first, each with its next time in `at`. */
  list() {
    return this.#requests.call(ReminderList, "GET", this.#base);
  }

  /**
   * Once at `at` (ms), or recurring on `cron` in `timeZone`; pass a `clientId` to retry without
   * setting it twice.
   */
  create(input: z.input<typeof NewReminder>) {
    return this.#requests.call(Reminder, "POST", this.#base, input);
  }

  /** Yours, or any `here` one for the room's moderators: the reminder as it was. */
  cancel(id: string) {
    return this.#requests.call(Reminder, "DELETE", `${this.#base}/${encodeURIComponent(id)}`);
  }
}
