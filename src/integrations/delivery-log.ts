import type { Delivery, DeliveryQuery, DeliveryStatus, RoomEvent } from "../protocol/index.ts";
import * as z from "zod";

type DeliveryRow = {
  id: string;
  webhook_id: string;
  message_id: string;
  event_type: Delivery["eventType"];
  room: string;
  seq: number;
  body: string;
  status: DeliveryStatus;
  created_at: number;
  updated_at: number;
  next_attempt_at: number | null;
};

type AttemptRow = {
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
  response: string;
};

/** Deliveries kept per hub, newest first: older ones are dropped. */
export const KEEP_DELIVERIES = 10_000;
/** And for how long at most. */
export const KEEP_DELIVERIES_MS = 7 * 24 * 60 * 60 * 1000;
/** Tries kept per delivery (its latest). */
const KEEP_ATTEMPTS = 20;

/** A delivery ready for its next try: what to send, and where it stands. */
export type StoredDelivery = {
  id: string;
  webhookId: string;
  messageId: string;
  body: string;
  status: DeliveryStatus;
};

/**
 * The hub's delivery log: one row per (endpoint, event), unique by the Standard Webhooks message
 * id, so that a batch of events fed twice creates each delivery once; the body kept for replay.
 */
export class DeliveryLog {
  readonly #sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Records a delivery of a room's event unless it exists; answers whether it was new. */
  add(id: string, webhookId: string, event: RoomEvent, room: string, body: string, now: number) {
    const about = { messageId: messageIdOf(event), eventType: event.type, seq: event.seq };
    return this.addAbout(
      id,
      webhookId,
      { ...about, messageSeq: messageSeqOf(event) },
      room,
      body,
      now,
    );
  }

  /** Records a delivery about anything (an event, a rule's firing) unless it exists. */
  addAbout(
    id: string,
    webhookId: string,
    about: {
      messageId: string;
      eventType: Delivery["eventType"];
      seq: number;
      messageSeq: number | null;
    },
    room: string,
    body: string,
    now: number,
  ) {
    const inserted = this.#sql.exec(
      `INSERT INTO deliveries (id, webhook_id, message_id, event_type, room, seq, message_seq, body,
         status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
       ON CONFLICT (webhook_id, message_id) DO NOTHING`,
      id,
      webhookId,
      about.messageId,
      about.eventType,
      room,
      about.seq,
      about.messageSeq,
      body,
      now,
      now,
    );
    return inserted.rowsWritten > 0;
  }

  /** The pending deliveries of these events (new, or left pending by a consumer that died). */
  pendingFor(room: string, seqs: readonly number[]): { id: string; webhookId: string }[] {
    if (seqs.length === 0) return [];
    return this.#sql
      .exec<{ id: string; webhook_id: string }>(
        `SELECT id, webhook_id FROM deliveries WHERE room = ? AND status = 'pending'
           AND seq IN (SELECT value FROM json_each(?))`,
        room,
        JSON.stringify(seqs),
      )
      .toArray()
      .map((row) => ({ id: row.id, webhookId: row.webhook_id }));
  }

  stored(id: string): StoredDelivery | undefined {
    const row = this.#sql
      .exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id)
      .toArray()[0];
    return (
      row && {
        id: row.id,
        webhookId: row.webhook_id,
        messageId: row.message_id,
        body: row.body,
        status: row.status,
      }
    );
  }

  setStatus(id: string, status: DeliveryStatus, now: number, nextAttemptAt: number | null = null) {
    this.#sql.exec(
      "UPDATE deliveries SET status = ?, updated_at = ?, next_attempt_at = ? WHERE id = ?",
      status,
      now,
      nextAttemptAt,
      id,
    );
  }

  addAttempt(id: string, attempt: Delivery["attempts"][number]): void {
    this.#sql.exec(
      `INSERT INTO delivery_attempts (delivery_id, at, status, error, duration_ms, response)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      attempt.at,
      attempt.status,
      attempt.error,
      attempt.durationMs,
      attempt.response,
    );
    this.#sql.exec(
      `DELETE FROM delivery_attempts WHERE delivery_id = ? AND rowid NOT IN
         (SELECT rowid FROM delivery_attempts WHERE delivery_id = ? ORDER BY at DESC LIMIT ?)`,
      id,
      id,
      KEEP_ATTEMPTS,
    );
  }

  get(webhookId: string, id: string): Delivery | undefined {
    const row = this.#sql
      .exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ? AND webhook_id = ?", id, webhookId)
      .toArray()[0];
    return row && this.#wire(row);
  }

  /** A page of an endpoint's deliveries, newest first (by the event's seq within one batch). */
  page(
    webhookId: string,
    query: DeliveryQuery,
  ): { deliveries: Delivery[]; nextBefore: string | null } {
    const before = decodeCursor(query.before);
    const rows = this.#sql
      .exec<DeliveryRow>(
        `SELECT * FROM deliveries WHERE webhook_id = ?
           AND (? IS NULL OR status = ?)
           AND (? IS NULL OR (created_at, seq, id) < (?, ?, ?))
         ORDER BY created_at DESC, seq DESC, id DESC LIMIT ?`,
        webhookId,
        query.status ?? null,
        query.status ?? null,
        before?.at ?? null,
        before?.at ?? null,
        before?.seq ?? null,
        before?.id ?? null,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      deliveries: page.map((row) => this.#wire(row)),
      nextBefore: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  /**
   * A message's text was redacted: the bodies kept for replay lose it too, as the log's events
   * did (served with empty text and `redacted: true`).
   */
  scrub(room: string, messageSeq: number): void {
    const rows = this.#sql
      .exec<{ id: string; body: string }>(
        "SELECT id, body FROM deliveries WHERE room = ? AND message_seq = ?",
        room,
        messageSeq,
      )
      .toArray();
    for (const row of rows) {
      const body = JSON.parse(row.body) as { data: { event: RoomEvent } };
      const event = body.data.event;
      if (!("text" in event.data)) continue;
      body.data.event = {
        ...event,
        data: { ...event.data, text: "" },
        redacted: true,
      } as RoomEvent;
      this.#sql.exec("UPDATE deliveries SET body = ? WHERE id = ?", JSON.stringify(body), row.id);
    }
  }

  removeFor(webhookId: string): void {
    this.#sql.exec(
      "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = ?)",
      webhookId,
    );
    this.#sql.exec("DELETE FROM deliveries WHERE webhook_id = ?", webhookId);
  }

  /** Drops deliveries past the retention (count and age), with their tries. */
  prune(now: number): void {
    const cutoff = this.#sql
      .exec<{ created_at: number }>(
        "SELECT created_at FROM deliveries ORDER BY created_at DESC LIMIT 1 OFFSET ?",
        KEEP_DELIVERIES,
      )
      .toArray()[0]?.created_at;
    const before = Math.max(now - KEEP_DELIVERIES_MS, cutoff ?? -Infinity);
    this.#sql.exec(
      "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE created_at < ?)",
      before,
    );
    this.#sql.exec("DELETE FROM deliveries WHERE created_at < ?", before);
  }

  #wire(row: DeliveryRow): Delivery {
    const attempts = this.#sql
      .exec<AttemptRow>(
        "SELECT at, status, error, duration_ms, response FROM delivery_attempts WHERE delivery_id = ? ORDER BY at",
        row.id,
      )
      .toArray();
    return {
      id: row.id,
      webhookId: row.webhook_id,
      messageId: row.message_id,
      eventType: row.event_type,
      room: row.room,
      seq: row.seq,
      status: row.status,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      nextAttemptAt: row.next_attempt_at,
      attempts: attempts.map((a) => ({
        at: a.at,
        status: a.status,
        error: a.error,
        durationMs: a.duration_ms,
        response: a.response,
      })),
    };
  }
}

/**
 * The Standard Webhooks `webhook-id` of an event's deliveries: the event's own id, so that every
 * retry and replay, and a batch fed twice, carry the same one, and receivers can dedupe on it.
 */
export const messageIdOf = (event: RoomEvent): string => `msg_${event.id}`;

/** The message whose text an event carries (for redaction), if any. */
function messageSeqOf(event: RoomEvent): number | null {
  const data = event.data;
  if (!("text" in data)) return null;
  return "messageId" in data ? data.messageId : event.seq;
}

const Cursor = z.object({ at: z.number().int(), seq: z.number().int(), id: z.string() });

/** Where a page ended: `<created_at>.<seq>.<id>`. */
function encodeCursor(row: DeliveryRow): string {
  return `${row.created_at}.${row.seq}.${row.id}`;
}

function decodeCursor(text: string | undefined): z.infer<typeof Cursor> | undefined {
  if (!text) return undefined;
  const [at, seq, ...id] = text.split(".");
  return Cursor.safeParse({ at: Number(at), seq: Number(seq), id: id.join(".") }).data;
}
