import type { RoomConnection } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext } from "../context.ts";
import type { AttachmentTray, TrayFile } from "./attachment-tray.ts";
import { recordingName, uploadName } from "./media-rules.ts";
import type { Recording } from "./voice-recorder.ts";

/** What the room's view lends the file sender: its pending lines and its compose box. */
export type FileSenderDeps = {
  ctx: AppContext;
  room: string;
  tray: () => AttachmentTray;
  /** A pending line for a post being sent; its id. */
  begin: (text: string, files: number) => number;
  /** The post's ack or refusal, to its pending line. */
  settle: (id: number, posted: Promise<number>) => void;
  /** The post never left: its pending line says why, and its text goes back to the box. */
  refuse: (id: number, message: string, text: string) => void;
};

/**
 * Posts with files from a room (docs/attachments.md, "In the UI"): the tray's files uploaded
 * first, each once (a resend reuses what went up), then the post; and a recording as a voice
 * message.
 */
export function fileSender(deps: FileSenderDeps) {
  const { ctx, room } = deps;
  /** Makes upload clientIds unique to this view: a retried open answers the same upload. */
  const prefix = Math.random().toString(36).slice(2, 10);

  async function uploadTrayFile(entry: TrayFile): Promise<string> {
    if (entry.attachmentId !== undefined) return entry.attachmentId;
    const tray = deps.tray();
    entry.error = undefined;
    try {
      const attachment = await ctx.call((api) =>
        api.upload(room, entry.file, {
          kind: entry.kind,
          name: uploadName(entry.file.name),
          clientId: `${prefix}-${entry.key}`,
          onProgress: ({ sent }) => {
            entry.sent = sent;
            tray.render();
          },
        }),
      );
      entry.attachmentId = attachment.id;
      return attachment.id;
    } catch (error) {
      handleUnauthorized(ctx, error);
      entry.error = errorText(error);
      throw error;
    } finally {
      tray.render();
    }
  }

  return {
    /** The tray's files, then the post with the text. A file the server refuses keeps its reason on its tray line and nothing is posted. */
    async withFiles(conn: RoomConnection, text: string, files: readonly TrayFile[]): Promise<void> {
      const id = deps.begin(text, files.length);
      const results = await Promise.allSettled(files.map((file) => uploadTrayFile(file)));
      const failed = results.filter((r) => r.status === "rejected").length;
      if (failed) {
        const message = `${failed === 1 ? "a file was" : `${failed} files were`} not uploaded (see the files above)`;
        return deps.refuse(id, message, text);
      }
      const ids = files.map((file) => file.attachmentId!);
      for (const file of files) deps.tray().remove(file.key);
      deps.settle(id, conn.post(text, { attachments: ids }));
    },

    /** Uploads a recording as `voice` with its duration and waveform, and posts it. */
    voice(conn: RoomConnection, recording: Recording): void {
      const id = deps.begin("", 1);
      const upload = ctx.call((api) =>
        api.upload(room, recording.blob, {
          kind: "voice",
          name: recordingName(recording.blob.type),
          durationMs: recording.durationMs,
          waveform: recording.waveform,
          clientId: `${prefix}-voice-${id}`,
        }),
      );
      deps.settle(
        id,
        upload.then((attachment) => conn.post("", { attachments: [attachment.id] })),
      );
    },
  };
}
