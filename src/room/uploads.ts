import { refusal as permission, type Refusal, type Result } from "../protocol/index.ts";
import {
  LIMITS_ATTACHMENTS,
  type Attachment,
  type AttachmentKind,
  type NewUpload,
  type PartReceipt,
  type Upload,
} from "../protocol/attachments.ts";
import type { Actor } from "../identity/actor.ts";
import { objectKey } from "../media/keys.ts";
import {
  attachmentOf,
  completeRefusal,
  openRefusal,
  partRefusal,
  uploadOf,
} from "../media/upload-rules.ts";
import type { RoomView } from "./room-view.ts";
import { actsWithoutJoining, mutedRefusal, standingOf } from "./standing.ts";
import { recordOf, uploadRecord, uploadRow, type LiveRow, type UploadRow } from "./upload-rows.ts";

/** What the worker's part route needs to store a part in R2: the kind (part 1 is sniffed) and the multipart upload. */
export type PartTicket = { kind: AttachmentKind; key: string; multipart: string | null };

/** A part R2 stored, as the worker tells it: its etag, and for part 1 the type its bytes say. */
export type StoredPart = { part: number; bytes: number; etag: string; type?: string | undefined };

/** What the worker's complete route needs: R2's multipart upload and its parts, or the attachment when it is complete already. */
export type CompleteTicket =
  | { done: Attachment }
  | { key: string; multipart: string; parts: { partNumber: number; etag: string }[]; size: number };

/** A posted file as the attachment route serves it. */
export type ServedFile = { key: string; attachment: Attachment };

const refused = (code: Refusal["code"], message: string) =>
  ({ ok: false, error: { code, message } }) as const;
const notYours = (id: string) => refused("not_found", `no upload ${id} of yours in this room`);

/** 128 random bits, base64url: an attachment's id (docs/attachments.md, "Keys"). */
export function newAttachmentId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * The room's upload sessions (docs/attachments.md): one row each in `uploads`, its stored parts'
 * R2 etags in `upload_parts`. Never a byte of a file: the worker's routes talk to R2 and tell the
 * room what they did. The rules are src/media/upload-rules.ts; deleting the objects is
 * file-deletions.ts, on the room's clock.
 */
export class Uploads {
  readonly #sql: SqlStorage;
  readonly #roomName: () => string;
  /** The clock's times changed (an upload opened or given up). */
  readonly #changed: () => void;

  constructor(sql: SqlStorage, roomName: () => string, changed: () => void) {
    this.#sql = sql;
    this.#roomName = roomName;
    this.#changed = changed;
  }

  /**
   * Opens an upload for someone who may post here (a member, not muted); the same `clientId`
   * again answers the upload it opened. `multipart` is R2's upload id, null until the worker has
   * made one (`multipartStarted`).
   */
  open(
    actor: Actor,
    view: RoomView,
    input: NewUpload,
    now: number,
  ): Result<{ upload: Upload; key: string; multipart: string | null }> {
    if (input.clientId !== undefined) {
      const made = this.#sql
        .exec<UploadRow>(
          "SELECT * FROM uploads WHERE uploader_id = ? AND client_id = ?",
          actor.id,
          input.clientId,
        )
        .toArray()[0];
      if (made?.state === "purged")
        return refused("conflict", `clientId ${input.clientId} named an upload that is gone`);
      if (made) return { ok: true, value: this.#opened(made as LiveRow) };
    }
    const denied = postingRefusal(view, actor, now) ?? openRefusal(input, this.#pending(actor.id));
    if (denied) return { ok: false, error: denied };
    const row: LiveRow = {
      id: newAttachmentId(),
      uploader_id: actor.id,
      client_id: input.clientId ?? null,
      kind: input.kind,
      name: input.name,
      size: input.size,
      duration_ms: input.durationMs ?? null,
      waveform: input.waveform === undefined ? null : JSON.stringify(input.waveform),
      type: null,
      state: "open",
      multipart: null,
      message_id: null,
      created_at: now,
      expires_at: now + LIMITS_ATTACHMENTS.uploadTtlMs,
    };
    this.#sql.exec(
      `INSERT INTO uploads (id, uploader_id, client_id, kind, name, size, duration_ms, waveform,
         type, state, multipart, message_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ...Object.values(row),
    );
    // Unposted a day after it opened, it goes: parts, object and all.
    this.#sql.exec(
      "INSERT INTO file_deletions (attachment_id, due_at, reason) VALUES (?, ?, 'expired')",
      row.id,
      row.expires_at,
    );
    this.#changed();
    return { ok: true, value: this.#opened(row) };
  }

  /** The worker made R2's multipart upload: the first one told wins, the answer is the one kept. */
  multipartStarted(actor: Actor, id: string, multipart: string): Result<string> {
    const row = this.#mine(actor, id);
    if (!row || row.state !== "open") return notYours(id);
    this.#sql.exec(
      "UPDATE uploads SET multipart = ? WHERE id = ? AND multipart IS NULL",
      multipart,
      id,
    );
    return { ok: true, value: this.#row(id)!.multipart! };
  }

  /** The upload as its uploader sees it; anyone else's is not found. */
  get(actor: Actor, id: string): Result<Upload> {
    const row = this.#mine(actor, id);
    return row ? { ok: true, value: uploadOf(recordOf(this.#sql, row)) } : notYours(id);
  }

  /** Whether part `part` of `bytes` bytes may be stored, before the worker reads it. */
  partTicket(actor: Actor, id: string, part: number, bytes: number): Result<PartTicket> {
    const row = this.#mine(actor, id);
    if (!row) return notYours(id);
    const denied = partRefusal(recordOf(this.#sql, row), part, bytes);
    if (denied) return { ok: false, error: denied };
    return { ok: true, value: { kind: row.kind, key: this.#key(id), multipart: row.multipart } };
  }

  /** R2 stored part `part`: its etag is kept (a part sent again replaces it), part 1's type too. */
  partStored(actor: Actor, id: string, stored: StoredPart): Result<PartReceipt> {
    const row = this.#mine(actor, id);
    if (!row) return notYours(id);
    const denied = partRefusal(recordOf(this.#sql, row), stored.part, stored.bytes);
    if (denied) return { ok: false, error: denied };
    this.#sql.exec(
      "INSERT OR REPLACE INTO upload_parts (upload_id, part, etag, bytes) VALUES (?, ?, ?, ?)",
      id,
      stored.part,
      stored.etag,
      stored.bytes,
    );
    if (stored.part === 1 && stored.type !== undefined)
      this.#sql.exec("UPDATE uploads SET type = ? WHERE id = ?", stored.type, id);
    return { ok: true, value: { part: stored.part, bytes: stored.bytes } };
  }

  /** What completing takes in R2, once every part is in; the attachment if it is complete already. */
  completeTicket(actor: Actor, id: string): Result<CompleteTicket> {
    const row = this.#mine(actor, id);
    if (!row) return notYours(id);
    const record = recordOf(this.#sql, row);
    if (row.state === "complete" && record.type !== undefined)
      return { ok: true, value: { done: attachmentOf({ ...record, type: record.type }) } };
    const denied = completeRefusal(record);
    if (denied) return { ok: false, error: denied };
    if (row.multipart === null) return refused("bad_request", `upload ${id} has no parts stored`);
    const parts = this.#sql
      .exec<{ part: number; etag: string }>(
        "SELECT part, etag FROM upload_parts WHERE upload_id = ? ORDER BY part",
        id,
      )
      .toArray()
      .map((p) => ({ partNumber: p.part, etag: p.etag }));
    return {
      ok: true,
      value: { key: this.#key(id), multipart: row.multipart, parts, size: row.size },
    };
  }

  /** R2 assembled the object, of `size` bytes: the upload is complete, ready to post. */
  completed(actor: Actor, id: string, size: number): Result<Attachment> {
    const row = this.#mine(actor, id);
    if (!row) return notYours(id);
    const record = recordOf(this.#sql, row);
    if (size !== row.size)
      return refused("bad_request", `upload ${id} is ${size} bytes stored, not ${row.size}`);
    if (record.type === undefined) return refused("bad_request", `upload ${id} has no type`);
    if (row.state === "open") {
      this.#sql.exec("UPDATE uploads SET state = 'complete' WHERE id = ?", id);
      this.#sql.exec("DELETE FROM upload_parts WHERE upload_id = ?", id);
    }
    return { ok: true, value: attachmentOf({ ...record, type: record.type }) };
  }

  /**
   * Gives an upload up: it is gone at once for the room, its parts or object are deleted on the
   * clock right after (file-deletions.ts). A posted one goes with its message, not this way.
   */
  abort(actor: Actor, id: string, now: number): Result<void> {
    const row = this.#mine(actor, id);
    if (!row) return notYours(id);
    if (row.state === "posted")
      return refused("conflict", `upload ${id} is on a message: delete the message instead`);
    this.#sql.exec(
      `INSERT INTO file_deletions (attachment_id, due_at, reason, multipart) VALUES (?, ?, 'aborted', ?)
       ON CONFLICT (attachment_id) DO UPDATE SET due_at = excluded.due_at, reason = excluded.reason,
         multipart = excluded.multipart`,
      id,
      now,
      row.state === "open" ? row.multipart : null,
    );
    this.#forget(id);
    this.#changed();
    return { ok: true, value: undefined };
  }

  /**
   * A file `actor` may download, `actor` having passed the room's read check: a posted one while
   * its message is live (whoever may read the room's history may read its files), or their own
   * complete upload. Anything else is not found.
   */
  served(actor: Actor, view: RoomView, id: string): Result<ServedFile> {
    const row = this.#row(id);
    const readable =
      row?.state === "posted"
        ? isLive(view, row.message_id)
        : row?.state === "complete" && row.uploader_id === actor.id;
    const record = readable ? uploadRecord(this.#sql, id) : undefined;
    if (!record?.type) return refused("not_found", `no attachment ${id} here`);
    return {
      ok: true,
      value: { key: this.#key(id), attachment: attachmentOf({ ...record, type: record.type }) },
    };
  }

  /** The row is gone for the room: its object is the deletions' business now. */
  #forget(id: string): void {
    this.#sql.exec("DELETE FROM uploads WHERE id = ?", id);
    this.#sql.exec("DELETE FROM upload_parts WHERE upload_id = ?", id);
  }

  #opened(row: LiveRow) {
    return {
      upload: uploadOf(recordOf(this.#sql, row)),
      key: this.#key(row.id),
      multipart: row.multipart,
    };
  }

  #key(id: string): string {
    return objectKey(this.#roomName(), id);
  }

  /** Open or unposted uploads `userId` holds here. */
  #pending(userId: string): number {
    return this.#sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM uploads WHERE uploader_id = ? AND state IN ('open', 'complete')",
        userId,
      )
      .one().n;
  }

  #row(id: string): UploadRow | undefined {
    return uploadRow(this.#sql, id);
  }

  /** `actor`'s own upload `id`, not purged. */
  #mine(actor: Actor, id: string): LiveRow | undefined {
    const row = this.#row(id);
    return row && row.uploader_id === actor.id && row.state !== "purged"
      ? (row as LiveRow)
      : undefined;
  }
}

/**
 * Why `actor` may not upload here: uploading is the start of posting, so only those who may post
 * (members, or a service or admin acting here), and not while muted.
 */
function postingRefusal(view: RoomView, actor: Actor, now: number): Refusal | undefined {
  const denied = permission(standingOf(view, actor), "post");
  if (denied) return denied;
  if (!actsWithoutJoining(view, actor))
    return { code: "forbidden", message: "only members upload files: join the room first" };
  return mutedRefusal(view, actor.id, now);
}

const isLive = (view: RoomView, messageId: number | null): boolean => {
  const message = messageId === null ? undefined : view.message(messageId);
  return message !== undefined && !message.deleted && !message.redacted;
};
