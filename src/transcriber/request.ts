import { WhisperInput } from "../transcription/whisper.ts";
import { ServiceError } from "./errors.ts";

/**
 * The body of `POST /v1/transcribe`: Whisper's input (`WhisperInput`), checked as Workers AI
 * documents it (a missing or non-base64 `audio`, a `task` other than transcribe/translate or a
 * `vad_filter` that is not a boolean are 400 `bad_request`), plus what this engine cannot do:
 * the model is US English, so `language` is absent or `en`. `task: "translate"` translates into
 * English, and the speech is English already: its answer is the transcript. The tuning options
 * (`beam_size`, thresholds, prompts, `vad_filter`) are accepted and do not change pocketsphinx.
 */
export function parseTranscribeRequest(body: unknown): WhisperInput {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ServiceError("bad_request", "the body is a JSON object with `audio` (base64)");
  if (!("audio" in body) || body.audio === undefined || body.audio === null)
    throw new ServiceError("bad_request", "audio is required: the recording's bytes in base64");
  const parsed = WhisperInput.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new ServiceError("bad_request", `${where}${issue.message}`);
  }
  if (parsed.data.language !== undefined && parsed.data.language !== "en")
    throw new ServiceError(
      "bad_request",
      `language: only en is transcribed here (the model is US English), not ${parsed.data.language}`,
    );
  return parsed.data;
}
