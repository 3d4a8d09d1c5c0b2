import {
  can,
  refusal,
  type Command,
  type EphemeralFrame,
  type Refusal,
  type Result,
  type UserRef,
} from "../protocol/index.ts";
import { LIMITS_AUTOMATION, type Reminder } from "../protocol/automation.ts";
import type { NewReminder } from "../protocol/reminders.ts";
import { Actor } from "../identity/actor.ts";
import {
  cancellableBy,
  ephemeralText,
  firstFiring,
  nextFiring,
  postedText,
  visibleTo,
} from "../automation/reminder-rules.ts";
import type { ClockSource, Firing } from "./clock.ts";
import { denyAccess, standingOf, type RoomView } from "./decide.ts";
import { mutedRefusal } from "./standing.ts";
import { parseJson } from "./json.ts";

/** Who posts `here` reminders and sends `me` ones: one bot per instance, never a member. */
export const REMINDERS_BOT: UserRef = { id: "svc_reminders", name: "Reminders" };

/** After the room refused a reminder's post as busy, it is tried again this much later at least. */
const BUSY_RETRY_MS = 5000;

type ReminderRow = {
  id: string;
  user_id: string;
  actor: string;
  target: "me" | "here";
  text: string;
  at: number;
  cron: string | null;
  time_zone: string | null;
  client_id: string | null;
  created_at: number;
};

type PendingRow = { reminder_id: string; text: string; at: number; missed: number };

export type ReminderDeps = {
  storage: DurableObjectStorage;
  view: () => RoomView | undefined;
  roomName: () => string;
  /** Whether the user has a chat socket open here or on one of the room's shards. */
  online: (userId: string) => boolean;
  /** A frame to the user's chat sockets, here and on the shards. */
  tell: (userId: string, frame: EphemeralFrame) => void;
  /** A command through the room's command flow, answered when it is committed or refused. */
  submit: (command: Command, actor: Actor) => Promise<Result<{ seq: number }>>;
  /** Its times changed: the clock takes the earliest again. */
  changed: () => void;
};

const refused = (code: Refusal["code"], message: string) =>
  ({ ok: false, error: { code, message } }) as const;

const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

/**
 * The room's reminders (docs/automation.md, "Schedules and reminders"): private to their authors,
 * so kept in a table of their own, never in the log. A clock source: a `me` reminder that falls
 * due goes to its author's chat sockets as an `ephemeral` frame (or waits in `reminders_pending`
 * for their next socket here); a `here` one is posted by the Reminders bot through the command
 * flow with the clientId `reminder:<id>:<at>`, so that the idempotency keys make a second firing
 * of the same time (a replayed alarm) answer the first post instead of making another.
 */
export class Reminders implements ClockSource {
  readonly name = "reminders";
  readonly #sql: SqlStorage;
  readonly #deps: ReminderDeps;

  constructor(deps: ReminderDeps) {
    this.#deps = deps;
    this.#sql = deps.storage.sql;
  }

  /** `actor`'s reminders here, and the room's `here` ones for those who moderate it; by time. */
  list(actor: Actor, view: RoomView): Reminder[] {
    const moderates = can(standingOf(view, actor), "any_reminder");
    return this.#sql
      .exec<ReminderRow>(
        "SELECT * FROM reminders WHERE user_id = ? OR (? AND target = 'here') ORDER BY at, id",
        actor.id,
        moderates ? 1 : 0,
      )
      .toArray()
      .map(reminderOf)
      .filter((reminder) => visibleTo(reminder, actor.id, moderates));
  }

  /**
   * A new reminder by `actor` (who may see the room): `here` ones need the right to post, and no
   * mute. A `clientId` seen before answers the reminder it made.
   */
  add(actor: Actor, view: RoomView, input: NewReminder, now: number): Result<Reminder> {
    if (input.clientId !== undefined) {
      const made = this.#sql
        .exec<ReminderRow>(
          "SELECT * FROM reminders WHERE user_id = ? AND client_id = ?",
          actor.id,
          input.clientId,
        )
        .toArray()[0];
      if (made) return { ok: true, value: reminderOf(made) };
    }
    if (input.to === "here") {
      const denied = refusal(standingOf(view, actor), "post") ?? mutedRefusal(view, actor.id, now);
      if (denied) return { ok: false, error: denied };
    }
    const first = firstFiring(input, now);
    if (!first.ok) return refused("bad_request", first.message);
    const mine = this.#sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM reminders WHERE user_id = ?", actor.id)
      .one().n;
    if (mine >= LIMITS_AUTOMATION.remindersPerUser)
      return refused(
        "quota",
        `at most ${LIMITS_AUTOMATION.remindersPerUser} reminders each in a room: cancel one first`,
      );
    const row: ReminderRow = {
      id: `rem_${randomHex(8)}`,
      user_id: actor.id,
      actor: JSON.stringify({
        id: actor.id,
        name: actor.name,
        kind: actor.kind,
        admin: actor.admin,
      }),
      target: input.to,
      text: input.text,
      at: first.at,
      cron: input.cron ?? null,
      time_zone: input.cron === undefined ? null : (input.timeZone ?? "UTC"),
      client_id: input.clientId ?? null,
      created_at: now,
    };
    this.#sql.exec(
      `INSERT INTO reminders (id, user_id, actor, target, text, at, cron, time_zone, client_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ...Object.values(row),
    );
    this.#deps.changed();
    return { ok: true, value: reminderOf(row) };
  }

  /** Cancels reminder `id`: its author's, or a `here` one for those who moderate the room. */
  cancel(actor: Actor, view: RoomView, id: string): Result<Reminder> {
    const row = this.#sql
      .exec<ReminderRow>("SELECT * FROM reminders WHERE id = ?", id)
      .toArray()[0];
    const moderates = can(standingOf(view, actor), "any_reminder");
    // Someone else's `me` reminder is as unknown as a missing one.
    if (!row || !cancellableBy(reminderOf(row), actor.id, moderates))
      return refused("not_found", `no reminder ${id} of yours here`);
    this.#sql.exec("DELETE FROM reminders WHERE id = ?", id);
    this.#sql.exec("DELETE FROM reminders_pending WHERE reminder_id = ?", id);
    return { ok: true, value: reminderOf(row) };
  }

  /**
   * The `me` reminders that fell due while `userId` had no socket here, as frames for the socket
   * they just opened, earliest first; taken, so that they are sent once.
   */
  takePending(userId: string): EphemeralFrame[] {
    const rows = this.#sql
      .exec<PendingRow>(
        "DELETE FROM reminders_pending WHERE user_id = ? RETURNING reminder_id, text, at, missed",
        userId,
      )
      .toArray()
      .sort((a, b) => a.at - b.at);
    return rows.map((row) => ({
      type: "ephemeral",
      text: ephemeralText(row, row.missed),
      from: REMINDERS_BOT,
      at: row.at,
    }));
  }

  // ---- ClockSource ----

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM reminders").one().at ??
      undefined
    );
  }

  due(now: number, limit: number): Firing[] {
    return this.#sql
      .exec<ReminderRow>("SELECT * FROM reminders WHERE at <= ? ORDER BY at LIMIT ?", now, limit)
      .toArray()
      .map((row) => ({ at: row.at, fire: () => this.#fire(row, Date.now()) }));
  }

  async #fire(row: ReminderRow, now: number): Promise<void> {
    const reminder = reminderOf(row);
    const author = authorOf(row);
    const view = this.#deps.view();
    // Its author lost the room (banned, removed from a private one): the reminder goes with it.
    if (!view || !author || denyAccess(view, author)) return this.#moveOn(row, now);
    if (row.target === "me") return this.#tellAuthor(row, reminder, now);
    if (refusal(standingOf(view, author), "post") || mutedRefusal(view, author.id, now))
      return this.#moveOn(row, now);
    const posted = await this.#deps.submit(
      { type: "post", clientId: `reminder:${row.id}:${row.at}`, text: postedText(reminder) },
      botActor(this.#deps.roomName()),
    );
    if (
      !posted.ok &&
      (posted.error.code === "overloaded" || posted.error.code === "rate_limited")
    ) {
      // Not stored: the same time is tried again a little later.
      const wait = Math.max(BUSY_RETRY_MS, (posted.error.retryAfter ?? 0) * 1000);
      this.#sql.exec(
        "UPDATE reminders SET at = ? WHERE id = ? AND at = ?",
        Date.now() + wait,
        row.id,
        row.at,
      );
      return;
    }
    // Posted, or answered with the first post's seq, or refused for good: this time is done.
    this.#moveOn(row, Date.now());
  }

  /**
   * A `me` reminder: to the author's sockets if they have one open, else kept for their next
   * one; in one synchronous step with moving it on, so that the output gate lets the frame out
   * only once the move is stored.
   */
  #tellAuthor(row: ReminderRow, reminder: Reminder, now: number): void {
    const online = this.#deps.online(row.user_id);
    this.#deps.storage.transactionSync(() => {
      this.#moveOn(row, now);
      if (!online) this.#keepPending(row);
    });
    if (online)
      this.#deps.tell(row.user_id, {
        type: "ephemeral",
        text: ephemeralText(reminder),
        from: REMINDERS_BOT,
        at: row.at,
      });
  }

  /** One pending frame per reminder (a recurring one counts its misses), the newest 25 a user. */
  #keepPending(row: ReminderRow): void {
    this.#sql.exec(
      `INSERT INTO reminders_pending (reminder_id, user_id, text, at, missed) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (reminder_id) DO UPDATE SET text = excluded.text, at = excluded.at, missed = missed + 1`,
      row.id,
      row.user_id,
      row.text,
      row.at,
    );
    this.#sql.exec(
      `DELETE FROM reminders_pending WHERE user_id = ? AND reminder_id NOT IN
         (SELECT reminder_id FROM reminders_pending WHERE user_id = ? ORDER BY at DESC LIMIT ?)`,
      row.user_id,
      row.user_id,
      LIMITS_AUTOMATION.remindersPerUser,
    );
  }

  /**
   * Done with the time `row.at`: a recurring reminder moves to its next time, any other is
   * deleted. Only if it still has that time (it may have been cancelled, or moved, meanwhile).
   */
  #moveOn(row: ReminderRow, now: number): void {
    const next = nextFiring(reminderOf(row), now);
    if (next === undefined)
      this.#sql.exec("DELETE FROM reminders WHERE id = ? AND at = ?", row.id, row.at);
    else
      this.#sql.exec("UPDATE reminders SET at = ? WHERE id = ? AND at = ?", next, row.id, row.at);
  }
}

/** The Reminders bot as the room's command flow sees it: a service that may post here, no more. */
export const botActor = (room: string): Actor => ({
  ...REMINDERS_BOT,
  kind: "service",
  scope: { rooms: [room], actions: ["post"], role: "member" },
});

function authorOf(row: ReminderRow): Actor | undefined {
  const parsed = Actor.safeParse(parseJson(row.actor));
  return parsed.success ? parsed.data : undefined;
}

function reminderOf(row: ReminderRow): Reminder {
  const author = authorOf(row);
  return {
    id: row.id,
    to: row.target,
    text: row.text,
    at: row.at,
    ...(row.cron === null ? {} : { cron: row.cron, timeZone: row.time_zone ?? "UTC" }),
    by: { id: row.user_id, name: author?.name ?? "" },
    createdAt: row.created_at,
  };
}
