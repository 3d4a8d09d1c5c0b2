import * as z from "zod";
import { LIMITS_AUTOMATION, Reminder, ReminderId, TimeZone } from "./automation.ts";
import { ClientId, MessageText, RoomName } from "./names.ts";

/**
 * Additions: reminders over REST (docs/automation.md, "Schedules and reminders"). The body of
 * POST /api/rooms/{room}/reminders has the fields `/remind` parses to: a one-off reminder gives
 * `at`, a recurring one `cron` and `timeZone`.
 */

/** A reminder's text, short enough to fit in the message that posts it. */
export const REMINDER_TEXT_CHARS = 1000;
export const ReminderText = MessageText.refine(
  (s) => [...s].length <= REMINDER_TEXT_CHARS,
  `a reminder's text is at most ${REMINDER_TEXT_CHARS} characters`,
);

/** How far ahead a reminder may be set (a year), and how often a recurring one may fire. */
export const REMINDER_HORIZON_MS = 366 * 24 * 3600 * 1000;
export const REMINDER_MIN_INTERVAL_MS = 3600 * 1000;

export const NewReminder = z
  .object({
    to: z.enum(["me", "here"]),
    text: ReminderText,
    /** One-off: when (ms), in the future, within a year. */
    at: z.number().int().positive().optional(),
    /** Recurring: a five-field cron expression read in `timeZone` (UTC when absent). */
    cron: z.string().min(9).max(100).optional(),
    timeZone: TimeZone.optional(),
    /** Sent again with the same value, the call answers the reminder it made the first time. */
    clientId: ClientId.optional(),
  })
  .strict()
  .refine(
    (input) => (input.at === undefined) !== (input.cron === undefined),
    "give `at` (once) or `cron` (recurring), one of them",
  );
export type NewReminder = z.infer<typeof NewReminder>;

export const ReminderList = z.object({
  reminders: z.array(Reminder),
  /** How many reminders one person may have in a room. */
  limit: z.literal(LIMITS_AUTOMATION.remindersPerUser),
});
export type ReminderList = z.infer<typeof ReminderList>;

export const ReminderParam = z.object({ room: RoomName, id: ReminderId });
