import { LIMITS_ATTACHMENTS } from "../protocol/attachments.ts";
import type { RoomEvent } from "../protocol/index.ts";
import { objectKey } from "../media/keys.ts";
import type { ClockSource, Firing } from "./clock.ts";

/**
 * Why a file is to be deleted: an upload not posted in time (`expired`) or given up (`aborted`),
 * whose row goes with it; a deleted message's files after their keep time (`deleted`) or a
 * redacted one's at once (`redacted`), whose rows stay, `purged`, so that nothing serves them.
 */
type Reason = "expired" | "aborted" | "deleted" | "redacted";

type DeletionRow = {
  attachment_id: string;
  due_at: number;
  reason: Reason;
  /** R2's multipart upload to abort, for an upload given up while open (its row is gone). */
  multipart: string | null;
  attempts: number;
};

/** A failed deletion is tried again after this, doubled each time, up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 5000;
const MAX_BACKOFF_MS = 3600_000;

/**
 * The projection of files' fates onto `file_deletions`, in the same transaction as the event's
 * append (project.ts): posting takes an upload's expiry away; deleting a message puts its files
 * on the clock `keepDeletedMs` later, restoring it takes them off again; redacting puts them on
 * at once.
 */
export function projectFiles(sql: SqlStorage, event: RoomEvent): void {
  switch (event.type) {
    case "message.posted": {
      for (const attachment of event.data.attachments ?? []) {
        sql.exec(
          "UPDATE uploads SET state = 'posted', message_id = ? WHERE id = ?",
          event.seq,
          attachment.id,
        );
        sql.exec("DELETE FROM file_deletions WHERE attachment_id = ?", attachment.id);
      }
      return;
    }
    case "message.deleted":
      return scheduleOf(
        sql,
        event.data.messageId,
        event.at + LIMITS_ATTACHMENTS.keepDeletedMs,
        "deleted",
      );
    case "message.redacted":
      return scheduleOf(sql, event.data.messageId, event.at, "redacted");
    case "message.restored":
      sql.exec(
        `DELETE FROM file_deletions WHERE reason = 'deleted' AND attachment_id IN
           (SELECT id FROM uploads WHERE message_id = ?)`,
        event.data.messageId,
      );
      return;
    default:
      return;
  }
}

/** Whether `stored` put files on the clock: then it must look at its times again. */
export const putFilesOnClock = (stored: readonly RoomEvent[]): boolean =>
  stored.some((event) => event.type === "message.deleted" || event.type === "message.redacted");

function scheduleOf(sql: SqlStorage, messageId: number, dueAt: number, reason: Reason): void {
  // A redaction after a deletion brings the time forward; a deletion never puts a redaction off.
  sql.exec(
    `INSERT INTO file_deletions (attachment_id, due_at, reason)
       SELECT id, ?, ? FROM uploads WHERE message_id = ? AND state = 'posted'
     ON CONFLICT (attachment_id) DO UPDATE SET due_at = min(due_at, excluded.due_at),
       reason = CASE WHEN excluded.due_at < due_at THEN excluded.reason ELSE reason END`,
    dueAt,
    reason,
    messageId,
  );
}

/**
 * Deleting files' objects from R2, one of the room's clock sources (clock.ts): small calls, never
 * a byte of a file. A deletion that fails stays due, later each time; one fired twice (an alarm
 * delivered again) finds nothing left to do.
 */
export class FileDeletions implements ClockSource {
  readonly name = "file-deletions";
  readonly #sql: SqlStorage;
  readonly #storage: DurableObjectStorage;
  readonly #bucket: R2Bucket;
  readonly #roomName: () => string;
  /** Whether message `id` is live (not deleted, not redacted). */
  readonly #live: (messageId: number) => boolean;

  constructor(
    storage: DurableObjectStorage,
    bucket: R2Bucket,
    roomName: () => string,
    live: (messageId: number) => boolean,
  ) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.#bucket = bucket;
    this.#roomName = roomName;
    this.#live = live;
  }

  next(): number | undefined {
    return (
      this.#sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM file_deletions").one()
        .at ?? undefined
    );
  }

  due(now: number, limit: number): Firing[] {
    return this.#sql
      .exec<DeletionRow>(
        "SELECT * FROM file_deletions WHERE due_at <= ? ORDER BY due_at LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((row) => ({ at: row.due_at, fire: () => this.#fire(row) }));
  }

  async #fire(row: DeletionRow): Promise<void> {
    const upload = this.#sql
      .exec<{ state: string; multipart: string | null; message_id: number | null }>(
        "SELECT state, multipart, message_id FROM uploads WHERE id = ?",
        row.attachment_id,
      )
      .toArray()[0];
    // Posted, or restored, since it was put here: it stays (normally its row went then already).
    const kept =
      (row.reason === "expired" && upload?.state === "posted") ||
      (row.reason === "deleted" && upload?.message_id != null && this.#live(upload.message_id));
    if (!kept) {
      const multipart = row.multipart ?? (upload?.state === "open" ? upload.multipart : null);
      try {
        await this.#deleteObject(objectKey(this.#roomName(), row.attachment_id), multipart);
      } catch (error) {
        const wait = Math.min(FIRST_BACKOFF_MS * 2 ** row.attempts, MAX_BACKOFF_MS);
        this.#sql.exec(
          "UPDATE file_deletions SET due_at = ?, attempts = attempts + 1 WHERE attachment_id = ? AND due_at = ?",
          Date.now() + wait,
          row.attachment_id,
          row.due_at,
        );
        throw error;
      }
    }
    this.#storage.transactionSync(() => {
      this.#sql.exec(
        "DELETE FROM file_deletions WHERE attachment_id = ? AND due_at = ?",
        row.attachment_id,
        row.due_at,
      );
      if (kept) return;
      if (row.reason === "expired" || row.reason === "aborted") {
        this.#sql.exec("DELETE FROM uploads WHERE id = ?", row.attachment_id);
        this.#sql.exec("DELETE FROM upload_parts WHERE upload_id = ?", row.attachment_id);
      } else this.#sql.exec("UPDATE uploads SET state = 'purged' WHERE id = ?", row.attachment_id);
    });
  }

  /** The parts of an upload still open, then the object; either may be gone already. */
  async #deleteObject(key: string, multipart: string | null): Promise<void> {
    if (multipart !== null) {
      try {
        await this.#bucket.resumeMultipartUpload(key, multipart).abort();
      } catch (error) {
        // Completed or aborted already: R2 says the multipart upload does not exist (10024).
        if (!String(error).includes("10024")) throw error;
      }
    }
    await this.#bucket.delete(key);
  }
}
