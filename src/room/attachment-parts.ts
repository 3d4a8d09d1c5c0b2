import { objectKey } from "../media/keys.ts";
import { Transcriptions, type TranscriptionDeps } from "./transcriptions.ts";

/**
 * How a room's attachments are put together (docs/attachments.md), for parts.ts: the queue of
 * voice attachments waiting for their transcript, read from the FILES bucket.
 */
export function roomTranscriptions(
  env: Env,
  deps: Omit<TranscriptionDeps, "transcriber" | "bytes">,
): Transcriptions {
  return new Transcriptions({
    ...deps,
    // The transcriber arrives with src/transcription/ (docs/attachments.md, "Transcription").
    transcriber: undefined,
    bytes: async (attachmentId) => {
      const object = await env.FILES.get(objectKey(deps.roomName(), attachmentId));
      return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
    },
  });
}
