/** Where an attachment's bytes live in the FILES bucket (docs/attachments.md, "The model"). */
export const objectKey = (room: string, attachmentId: string): string =>
  `r/${room}/${attachmentId}`;
