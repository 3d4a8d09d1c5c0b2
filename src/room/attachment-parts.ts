import { objectKey } from "../media/keys.ts";
import { log } from "../telemetry/log.ts";
import { selectTranscriber } from "../transcription/select.ts";
import { Transcriptions, type TranscriptionDeps } from "./transcriptions.ts";

/** The transcriber chosen is logged once per isolate, not at every room's wake. */
let told = false;

/**
 * How a room's attachments are put together (docs/attachments.md), for parts.ts: the queue of
 * voice attachments waiting for their transcript, read from the FILES bucket.
 */
export function roomTranscriptions(
  env: Env,
  deps: Omit<TranscriptionDeps, "transcriber" | "bytes">,
): Transcriptions {
  const choice = selectTranscriber(env);
  if (!told) {
    told = true;
    log.info("transcription", {
      transcriber: choice.transcriber?.engine ?? "none",
      why: choice.why,
    });
  }
  return new Transcriptions({
    ...deps,
    // Workers AI, the local transcriber, or none (docs/attachments.md, "Transcription").
    transcriber: choice.transcriber,
    bytes: async (attachmentId) => {
      const object = await env.FILES.get(objectKey(deps.roomName(), attachmentId));
      return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
    },
  });
}
