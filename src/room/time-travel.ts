import type { Moment, Refusal, Result, RoomStateAt } from "../protocol/index.ts";
import { EMPTY_ROSTER, foldRosterAll, membersOf, seqAtTime, type Roster } from "./history.ts";
import { foldMessage, toMessage, type MessageState } from "./message-history.ts";
import { toEvent, type EventRow } from "./log.ts";
import { snapshotAtOrBefore } from "./snapshots.ts";

const badRequest = (message: string): { ok: false; error: Refusal } => ({
  ok: false,
  error: { code: "bad_request", message },
});

/**
 * The room as it was at a past event (docs/audit.md, "Time travel"): the roster from the newest
 * snapshot at or before it plus the non-message events since, the messages that existed then
 * each folded from its own events up to it. Only committed events count (`lastSeq`).
 */
export class TimeTravel {
  readonly #sql: SqlStorage;
  readonly #lastSeq: () => number;
  constructor(sql: SqlStorage, lastSeq: () => number) {
    this.#sql = sql;
    this.#lastSeq = lastSeq;
  }

  /** The seq a moment names, or a 400 that says why there is none. */
  seqOf(moment: Moment): Result<number> {
    const last = this.#lastSeq();
    if ("at" in moment) {
      if (moment.at > last)
        return badRequest(`at: the room's log ends at seq ${last}; ${moment.at} is past it`);
      return { ok: true, value: moment.at };
    }
    const seq = seqAtTime(moment.atTime, last, (s) => this.#atOf(s));
    if (seq === 0)
      return badRequest(
        `atTime: the room did not exist yet at ${new Date(moment.atTime).toISOString()}`,
      );
    return { ok: true, value: seq };
  }

  /** The room at event `seq` (1..lastSeq), with up to `limit` of its messages with id < before. */
  stateAt(seq: number, before: number | undefined, limit: number): RoomStateAt {
    const at = this.#atOf(seq);
    const roster = this.rosterAt(seq);
    const room = roster.room!;
    const { messages, nextBefore } = this.#messagesAt(seq, before, limit);
    return {
      seq,
      at,
      room: {
        name: room.name,
        topic: room.topic,
        visibility: room.visibility,
        slowModeSeconds: room.slowModeSeconds,
        ownerId: room.ownerId,
      },
      members: membersOf(roster, at),
      messages,
      nextBefore,
    };
  }

  /** The roster at `seq`: the snapshot at or before it, then the non-message events after it. */
  rosterAt(seq: number): Roster {
    const snapshot = snapshotAtOrBefore(this.#sql, seq);
    // Seq order through the primary key; at most SNAPSHOT_EVERY rows are looked at.
    const rows = this.#sql.exec<EventRow>(
      "SELECT * FROM events WHERE seq > ? AND seq <= ? AND message_id IS NULL ORDER BY seq",
      snapshot?.seq ?? 0,
      seq,
    );
    const events = rows.toArray().map(toEvent);
    return foldRosterAll(snapshot?.roster ?? EMPTY_ROSTER, events);
  }

  /** Messages posted at or before `seq` (ids are the seq of their post), as they were then. */
  #messagesAt(seq: number, before: number | undefined, limit: number) {
    const ids = this.#sql
      .exec<{ id: number }>(
        "SELECT id FROM messages WHERE id <= ? AND id < ? ORDER BY id DESC LIMIT ?",
        seq,
        before ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray()
      .map((row) => row.id);
    const page = ids.slice(0, limit);
    const folded = new Map<number, MessageState | undefined>();
    if (page.length > 0) {
      // The page's ids are every message between its oldest and newest: one range of the
      // events_message index, not a list of bound parameters.
      const rows = this.#sql.exec<EventRow>(
        "SELECT * FROM events WHERE message_id BETWEEN ? AND ? AND seq <= ? ORDER BY message_id, seq",
        page.at(-1)!,
        page[0]!,
        seq,
      );
      for (const row of rows) {
        const event = toEvent(row);
        folded.set(row.message_id!, foldMessage(folded.get(row.message_id!), event));
      }
    }
    const messages = page.flatMap((id) => {
      const message = folded.get(id);
      return message ? [toMessage(message)] : [];
    });
    return { messages, nextBefore: ids.length > limit ? page.at(-1)! : null };
  }

  /** The time of event `seq`. */
  #atOf(seq: number): number {
    return this.#sql.exec<{ at: number }>("SELECT at FROM events WHERE seq = ?", seq).one().at;
  }
}
