import { checkAudio, TranscriberDown, TranscriptionFailed } from "./transcriber.ts";
import type { Transcriber, Transcript } from "./transcriber.ts";
import { toBase64, toTranscript, WhisperOutput, type WhisperInput } from "./whisper.ts";

/** The route of the local service (src/transcriber/server.ts) under its base URL. */
export const TRANSCRIBE_PATH = "v1/transcribe";

export type HttpTranscriberOptions = {
  /** The service's base URL, e.g. http://127.0.0.1:8790 (`TRANSCRIBER_URL`). */
  url: string;
  /**
   * How long one request may take, queueing on the service included (ms). The service gives a job
   * at most 300 s (a 5-minute message at real time); the default adds a minute in its line.
   */
  timeoutMs?: number;
  /** Logged as the transcript's engine. */
  engine?: string;
};

/**
 * The HTTP back end: a service that takes Workers AI Whisper's input as JSON at
 * `POST <url>/v1/transcribe` and answers its output (the local pocketsphinx service, or anything
 * else that speaks the same). Network errors, timeouts, 429 and 5xx are `TranscriberDown`; any
 * other refusal, or an answer that is not Whisper's shape, is `TranscriptionFailed`.
 */
export class HttpTranscriber implements Transcriber {
  readonly engine: string;
  readonly #endpoint: URL;
  readonly #timeoutMs: number;

  constructor(options: HttpTranscriberOptions) {
    const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
    this.#endpoint = new URL(TRANSCRIBE_PATH, base);
    this.#timeoutMs = options.timeoutMs ?? 360_000;
    this.engine = options.engine ?? "pocketsphinx";
  }

  async transcribe(audio: Uint8Array, _type: string): Promise<Transcript> {
    checkAudio(audio);
    const input: WhisperInput = { audio: toBase64(audio) };
    let response: Response;
    try {
      response = await fetch(this.#endpoint, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new TranscriberDown(`the transcriber at ${this.#endpoint.origin} did not answer`, {
        cause: error,
      });
    }
    if (!response.ok) throw await refusalOf(response);
    const answer = WhisperOutput.safeParse(await response.json().catch(() => undefined));
    if (!answer.success)
      throw new TranscriptionFailed("the transcriber answered something that is not a transcript");
    return toTranscript(answer.data);
  }
}

/** A non-2xx answer as the error the room acts on, with the service's own message. */
async function refusalOf(response: Response): Promise<Error> {
  const body: unknown = await response.json().catch(() => undefined);
  const said = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const message = `the transcriber answered ${response.status}${typeof said === "string" ? `: ${said}` : ""}`;
  if (response.status === 429 || response.status >= 500) {
    const retryAfter = Number(response.headers.get("retry-after"));
    return new TranscriberDown(message, {
      retryAfterS: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    });
  }
  return new TranscriptionFailed(message);
}
