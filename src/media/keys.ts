import type { AttachmentId } from "../protocol/attachments.ts";

/**
 * The R2 key of an attachment's object (docs/attachments.md, "Keys"): one place, for the upload
 * routes, the room's deletions and the transcription job alike.
 */
export const objectKey = (room: string, id: AttachmentId): string => `r/${room}/${id}`;
