import { objectKey } from "../media/keys.ts";
import { selectTranscriber } from "../transcription/select.ts";
import { Transcriptions, type TranscriptionDeps } from "./transcriptions.ts";

/**
 * How a room's attachments are put together (docs/attachments.md), for parts.ts: the queue of
 * voice attachments waiting for their transcript, read from the FILES bucket.
 */
export function roomTranscriptions(
  env: Env,
  deps: Omit<TranscriptionDeps, "transcriber" | "why" | "bytes">,
): Transcriptions {
  const choice = selectTranscriber(env);
  return new Transcriptions({
    ...deps,
    // Workers AI, the local transcriber, or none (docs/attachments.md, "Transcription").
    transcriber: choice.transcriber,
    why: choice.why,
    bytes: async (attachmentId) => {
      const object = await env.FILES.get(objectKey(deps.roomName(), attachmentId));
      return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
    },
  });
}
