import type { AttachmentKind } from "../protocol/attachments.ts";
import type { UploadRecord, UploadState } from "../media/upload-rules.ts";
import { parseJson } from "./json.ts";

/**
 * The rows of a room's upload sessions (`uploads`, `upload_parts`, room schema v17) and how the
 * rules (src/media/upload-rules.ts) see them: read by the sessions (uploads.ts) and the read
 * model (postableUpload).
 */

/** A row of `uploads`; `state` is also `purged` once a posted file's object is deleted. */
export type UploadRow = {
  id: string;
  uploader_id: string;
  client_id: string | null;
  kind: AttachmentKind;
  name: string;
  size: number;
  duration_ms: number | null;
  waveform: string | null;
  type: string | null;
  state: UploadState | "purged";
  multipart: string | null;
  message_id: number | null;
  created_at: number;
  expires_at: number;
};

/** A row whose file is still there. */
export type LiveRow = UploadRow & { state: UploadState };

export function uploadRow(sql: SqlStorage, id: string): UploadRow | undefined {
  return sql.exec<UploadRow>("SELECT * FROM uploads WHERE id = ?", id).toArray()[0];
}

/** Upload `id` as the rules see it (RoomView.upload); undefined when there is none or its file is purged. */
export function uploadRecord(sql: SqlStorage, id: string): UploadRecord | undefined {
  const row = uploadRow(sql, id);
  return row && row.state !== "purged" ? recordOf(sql, row as LiveRow) : undefined;
}

export function recordOf(sql: SqlStorage, row: LiveRow): UploadRecord {
  const waveform = parseJson(row.waveform);
  return {
    id: row.id,
    uploaderId: row.uploader_id,
    kind: row.kind,
    name: row.name,
    size: row.size,
    durationMs: row.duration_ms ?? undefined,
    waveform: Array.isArray(waveform) ? (waveform as number[]) : undefined,
    type: row.type ?? undefined,
    state: row.state,
    received: sql
      .exec<{ part: number }>("SELECT part FROM upload_parts WHERE upload_id = ?", row.id)
      .toArray()
      .map((p) => p.part),
    expiresAt: row.expires_at,
  };
}
