import { createRoute } from "@hono/zod-openapi";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { RoomParam } from "../protocol/index.ts";
import { Reminder } from "../protocol/automation.ts";
import { NewReminder, ReminderList, ReminderParam } from "../protocol/reminders.ts";

/**
 * A room's reminders (docs/automation.md, "Schedules and reminders"): the REST twin of `/remind`,
 * for the UI and the SDK. Each lives in the room object, private to its author; the room's
 * moderators also see and cancel its `here` ones.
 */
export const reminders = router();

reminders.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/reminders",
    summary: "Your reminders in a room",
    description:
      "Yours, `me` and `here`, soonest first; the room's moderators, owner and admins also see " +
      "everyone's `here` reminders. `at` is each one's next time (ms).",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(ReminderList, "the reminders, soonest first"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).reminders(c.var.user)), 200);
  },
);

reminders.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/reminders",
    summary: "Set a reminder",
    description:
      "The fields `/remind` parses to. `to: me` reminds you alone (an `ephemeral` frame on your " +
      "sockets in the room, or on your next one if none is open); `to: here` is posted in the " +
      "room by the Reminders bot, and needs the right to post (no mute). Once at `at` (ms, " +
      "within a year), or recurring on `cron` (five fields) in `timeZone` (UTC by default), at " +
      "most once an hour. At most 25 per person in a room (`quota`). The same `clientId` again " +
      "answers the reminder it made.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(NewReminder) },
    responses: {
      201: json(Reminder, "the reminder, with its first time in `at`"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "quota"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const made = await c.env.ROOM.getByName(room).addReminder(c.var.user, c.req.valid("json"));
    return c.json(unwrap(made), 201);
  },
);

reminders.openapi(
  createRoute({
    method: "delete",
    path: "/api/rooms/{room}/reminders/{id}",
    summary: "Cancel a reminder",
    description:
      "Yours, or (moderators, the owner, admins) any `here` one. Someone else's `me` reminder is " +
      "a 404, as a missing one.",
    ...signedIn,
    request: { params: ReminderParam },
    responses: {
      200: json(Reminder, "the reminder as it was"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).cancelReminder(c.var.user, id)), 200);
  },
);
