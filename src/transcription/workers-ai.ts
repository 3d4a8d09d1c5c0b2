import { checkAudio, TranscriberDown, TranscriptionFailed } from "./transcriber.ts";
import type { Transcriber, Transcript } from "./transcriber.ts";
import { toBase64, toTranscript, WHISPER_MODEL, WhisperOutput } from "./whisper.ts";

/**
 * What this back end needs of the `AI` binding: Whisper's one call. The binding (`Ai`) has it
 * among its overloads; the tests hand a stand-in that checks its input against `WhisperInput`.
 */
export type WhisperBinding = {
  run(
    model: typeof WHISPER_MODEL,
    inputs: Ai_Cf_Openai_Whisper_Large_V3_Turbo_Input,
  ): Promise<Ai_Cf_Openai_Whisper_Large_V3_Turbo_Output>;
};

/**
 * The production back end: Workers AI `@cf/openai/whisper-large-v3-turbo` through the `AI`
 * binding ($0.00051 per audio minute). The language is detected unless one is configured.
 *
 * The binding's errors carry no documented status, so every thrown error is `TranscriberDown`
 * (retried with backoff; the room bounds the tries). What we can tell is wrong before the call
 * (empty, over the voice limit) and an answer that is not Whisper's shape are `TranscriptionFailed`.
 */
export class WorkersAiTranscriber implements Transcriber {
  readonly engine = WHISPER_MODEL;
  readonly #ai: WhisperBinding;
  readonly #language: string | undefined;

  constructor(ai: WhisperBinding, options: { language?: string } = {}) {
    this.#ai = ai;
    this.#language = options.language;
  }

  async transcribe(audio: Uint8Array, _type: string): Promise<Transcript> {
    checkAudio(audio);
    const inputs: Ai_Cf_Openai_Whisper_Large_V3_Turbo_Input = { audio: toBase64(audio) };
    if (this.#language) inputs.language = this.#language;
    let output: unknown;
    try {
      output = await this.#ai.run(WHISPER_MODEL, inputs);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TranscriberDown(`Workers AI failed: ${reason}`, { cause: error });
    }
    const answer = WhisperOutput.safeParse(output);
    if (!answer.success)
      throw new TranscriptionFailed("Workers AI answered something that is not a transcript");
    return toTranscript(answer.data);
  }
}
