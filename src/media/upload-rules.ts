import {
  LIMITS_ATTACHMENTS,
  maxBytesOf,
  type Attachment,
  type AttachmentKind,
  type NewUpload,
  type Upload,
} from "../protocol/attachments.ts";
import type { Refusal } from "../protocol/index.ts";
import { missingParts, partCount, partSize } from "./parts.ts";

/**
 * The decisions of an upload session (docs/attachments.md, "The model"), as pure functions over
 * its record: opening, taking a part, completing, posting. The room keeps the records
 * (src/room/uploads.ts); R2 does what these allow, in the worker's routes.
 */

export type UploadState = "open" | "complete" | "posted";

/** An upload as the rules see it. */
export type UploadRecord = {
  id: string;
  uploaderId: string;
  kind: AttachmentKind;
  name: string;
  size: number;
  durationMs?: number | undefined;
  waveform?: number[] | undefined;
  /** The type read from part 1's bytes, once part 1 is in. */
  type?: string | undefined;
  state: UploadState;
  /** The parts stored, by number. */
  received: readonly number[];
  expiresAt: number;
};

const refusal = (code: Refusal["code"], message: string): Refusal => ({ code, message });

/** Why `input` may not open, when `pending` uploads of the same person are open or unposted here. */
export function openRefusal(input: NewUpload, pending: number): Refusal | undefined {
  if (input.size > maxBytesOf(input.kind))
    return refusal("too_large", `a ${input.kind} is at most ${maxBytesOf(input.kind)} bytes`);
  if (pending >= LIMITS_ATTACHMENTS.pendingPerUser)
    return refusal(
      "quota",
      `at most ${LIMITS_ATTACHMENTS.pendingPerUser} uploads open or unposted each in a room: post or give one up first`,
    );
  return undefined;
}

/** Why part `part` of `bytes` bytes may not be stored: it must be one of the file's, of its exact size. */
export function partRefusal(
  upload: UploadRecord,
  part: number,
  bytes: number,
): Refusal | undefined {
  if (upload.state !== "open")
    return refusal("conflict", `upload ${upload.id} is ${upload.state}: it takes no more parts`);
  const expected = partSize(upload.size, part);
  if (expected === undefined)
    return refusal(
      "bad_request",
      `upload ${upload.id} has parts 1 to ${partCount(upload.size)}, not ${part}`,
    );
  if (bytes > expected)
    return refusal("too_large", `part ${part} is ${expected} bytes, not ${bytes}`);
  if (bytes !== expected)
    return refusal("bad_request", `part ${part} is ${expected} bytes, not ${bytes}`);
  return undefined;
}

/** Why the upload may not be completed yet: every part must be in (and so the type known). */
export function completeRefusal(upload: UploadRecord): Refusal | undefined {
  if (upload.state !== "open")
    return refusal("conflict", `upload ${upload.id} is ${upload.state} already`);
  const missing = missingParts(upload.size, upload.received);
  if (missing.length > 0)
    return refusal("bad_request", `upload ${upload.id} still lacks parts ${missing.join(", ")}`);
  if (upload.type === undefined) return refusal("bad_request", `upload ${upload.id} has no type`);
  return undefined;
}

/**
 * Why `actorId` may not post upload `id` (undefined when no such upload is in this room): it
 * must be theirs, complete and not on a message yet. Someone else's is as unknown as a missing one.
 */
export function postRefusal(
  id: string,
  upload: UploadRecord | undefined,
  actorId: string,
): Refusal | undefined {
  if (!upload || upload.uploaderId !== actorId)
    return refusal("not_found", `no upload ${id} of yours in this room`);
  if (upload.state === "open")
    return refusal("conflict", `upload ${id} is not complete: send its parts, then complete it`);
  if (upload.state === "posted") return refusal("conflict", `upload ${id} is on a message already`);
  return undefined;
}

/** The upload as its uploader sees it (the wire's `Upload`). */
export const uploadOf = (upload: UploadRecord): Upload => ({
  id: upload.id,
  kind: upload.kind,
  name: upload.name,
  size: upload.size,
  partBytes: LIMITS_ATTACHMENTS.partBytes,
  parts: partCount(upload.size),
  received: [...new Set(upload.received)].sort((a, b) => a - b),
  state: upload.state,
  expiresAt: upload.expiresAt,
});

/** The descriptor a `message.posted` event logs for a complete upload. */
export function attachmentOf(upload: UploadRecord & { type: string }): Attachment {
  return {
    id: upload.id,
    kind: upload.kind,
    name: upload.name,
    type: upload.type,
    size: upload.size,
    ...(upload.durationMs !== undefined && { durationMs: upload.durationMs }),
    ...(upload.waveform !== undefined && { waveform: upload.waveform }),
  };
}

/**
 * Upload `upload` as the descriptor a post by `actorId` logs (RoomView.postableUpload), if
 * `postRefusal` allows it: undefined otherwise.
 */
export function postableAttachment(
  upload: UploadRecord | undefined,
  actorId: string,
): Attachment | undefined {
  if (!upload || postRefusal(upload.id, upload, actorId) || upload.type === undefined)
    return undefined;
  return attachmentOf({ ...upload, type: upload.type });
}
