/**
 * The worker's transcription back ends in workerd (src/transcription/).
 *
 * Workers AI cannot run locally: with an `[ai]` binding, wrangler dev and this test pool refuse
 * to start without an API token, and `env.AI.run` throws "Binding AI needs to be run remotely"
 * even in local mode (issue17-facts §3). So the Workers AI back end runs here against the closest
 * real thing: a stand-in `AI` that checks every input against the documented input (zod,
 * `WhisperInput`: a missing or non-base64 audio, a bad task or a non-boolean vad_filter is an
 * error, as on Workers AI), decodes the audio it was sent, and answers the documented output.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITS_ATTACHMENTS } from "../../src/protocol/attachments.ts";
import { HttpTranscriber } from "../../src/transcription/http.ts";
import { selectTranscriber } from "../../src/transcription/select.ts";
import { TranscriberDown, TranscriptionFailed } from "../../src/transcription/transcriber.ts";
import { toBase64, WHISPER_MODEL, WhisperInput } from "../../src/transcription/whisper.ts";
import { WorkersAiTranscriber, type WhisperBinding } from "../../src/transcription/workers-ai.ts";

/** The answer of the model's page, with Whisper's habits: a leading space, extra fields, vtt. */
const DOCUMENTED_ANSWER: Ai_Cf_Openai_Whisper_Large_V3_Turbo_Output = {
  text: " We will meet at the office tomorrow morning.",
  word_count: 8,
  segments: [
    {
      start: 0,
      end: 2.3,
      text: " We will meet at the office tomorrow morning.",
      temperature: 0,
      avg_logprob: -0.21,
      compression_ratio: 0.9,
      no_speech_prob: 0.01,
      words: [
        { word: " We", start: 0, end: 0.2 },
        { word: " will", start: 0.2, end: 0.4 },
      ],
    },
  ],
  transcription_info: {
    language: "en",
    language_probability: 0.99,
    duration: 2.3,
    duration_after_vad: 2.1,
  },
  vtt: "WEBVTT\n\n00:00.000 --> 00:02.300\nWe will meet at the office tomorrow morning.\n",
};

type Call = { model: string; inputs: WhisperInput; audio: Uint8Array };

/** The stand-in `AI` binding: Whisper's documented input checked, its documented output given. */
function standInAi(answer: unknown = DOCUMENTED_ANSWER) {
  const calls: Call[] = [];
  const ai: WhisperBinding = {
    async run(model, inputs) {
      if (model !== WHISPER_MODEL) throw new Error(`AiError: no such model ${model}`);
      const checked = WhisperInput.safeParse(inputs);
      if (!checked.success)
        throw new Error(`AiError: 5006: invalid input: ${checked.error.issues[0]!.message}`);
      const audio = (Uint8Array as unknown as { fromBase64(s: string): Uint8Array }).fromBase64(
        checked.data.audio,
      );
      calls.push({ model, inputs: checked.data, audio });
      return answer as Ai_Cf_Openai_Whisper_Large_V3_Turbo_Output;
    },
  };
  return { ai, calls };
}

const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) % 256);

describe("WorkersAiTranscriber", () => {
  it("sends the audio as base64 and nothing else, and maps the documented answer", async () => {
    const { ai, calls } = standInAi();
    const transcriber = new WorkersAiTranscriber(ai);
    expect(transcriber.engine).toBe("@cf/openai/whisper-large-v3-turbo");
    const audio = bytes(9000);
    const transcript = await transcriber.transcribe(audio, "audio/webm");
    expect(calls).toHaveLength(1);
    expect(Object.keys(calls[0]!.inputs)).toEqual(["audio"]);
    expect(calls[0]!.audio).toEqual(audio);
    expect(transcript).toEqual({
      text: "We will meet at the office tomorrow morning.",
      segments: [{ start: 0, end: 2.3, text: "We will meet at the office tomorrow morning." }],
      language: "en",
      durationS: 2.3,
    });
  });

  it("passes a configured language", async () => {
    const { ai, calls } = standInAi();
    await new WorkersAiTranscriber(ai, { language: "de" }).transcribe(bytes(10), "audio/ogg");
    expect(calls[0]!.inputs).toMatchObject({ language: "de" });
  });

  it("sends a 10 MiB recording whole (workerd's native toBase64, no stack overflow)", async () => {
    const { ai, calls } = standInAi();
    const audio = bytes(LIMITS_ATTACHMENTS.voiceBytes);
    await new WorkersAiTranscriber(ai).transcribe(audio, "audio/webm");
    expect(calls[0]!.audio.byteLength).toBe(audio.byteLength);
    expect(calls[0]!.audio).toEqual(audio);
  });

  it("refuses empty or oversized audio without calling the model", async () => {
    const { ai, calls } = standInAi();
    const transcriber = new WorkersAiTranscriber(ai);
    await expect(transcriber.transcribe(new Uint8Array(), "audio/webm")).rejects.toThrow(
      new TranscriptionFailed("the recording is empty"),
    );
    await expect(
      transcriber.transcribe(bytes(LIMITS_ATTACHMENTS.voiceBytes + 1), "audio/webm"),
    ).rejects.toBeInstanceOf(TranscriptionFailed);
    expect(calls).toHaveLength(0);
  });

  it("an error of the binding is down: retried, as its errors carry no documented status", async () => {
    const ai: WhisperBinding = {
      run: () => Promise.reject(new Error("InferenceUpstreamError: upstream timed out")),
    };
    const failure = new WorkersAiTranscriber(ai).transcribe(bytes(10), "audio/webm");
    await expect(failure).rejects.toBeInstanceOf(TranscriberDown);
    await expect(failure).rejects.toThrow(
      "Workers AI failed: InferenceUpstreamError: upstream timed out",
    );
  });

  it("an answer that is not Whisper's shape is a permanent failure", async () => {
    for (const answer of [null, "text", { text: 3 }, { segments: [] }]) {
      const { ai } = standInAi(answer);
      await expect(
        new WorkersAiTranscriber(ai).transcribe(bytes(10), "audio/webm"),
      ).rejects.toBeInstanceOf(TranscriptionFailed);
    }
  });

  it("the stand-in refuses what Workers AI documents as invalid", async () => {
    const { ai } = standInAi();
    const send = (inputs: object) =>
      ai.run(WHISPER_MODEL, inputs as Ai_Cf_Openai_Whisper_Large_V3_Turbo_Input);
    await expect(send({})).rejects.toThrow(/invalid input/);
    await expect(send({ audio: "%%%" })).rejects.toThrow(/base64/);
    await expect(send({ audio: "QUJD", task: "summarize" })).rejects.toThrow(/invalid input/);
    await expect(send({ audio: "QUJD", vad_filter: "yes" })).rejects.toThrow(/boolean/);
    await expect(send({ audio: "QUJD", task: "translate", vad_filter: true })).resolves.toBe(
      DOCUMENTED_ANSWER,
    );
  });
});

describe("toBase64 in workerd", () => {
  it("is the native method, and agrees with btoa", () => {
    const audio = bytes(70_000);
    expect(typeof (audio as unknown as { toBase64?: unknown }).toBase64).toBe("function");
    let binary = "";
    for (const b of audio) binary += String.fromCharCode(b);
    expect(toBase64(audio)).toBe(btoa(binary));
    expect(toBase64(new Uint8Array([1, 2, 3, 250]))).toBe("AQID+g==");
  });
});

describe("selectTranscriber", () => {
  it("picks none in this test pool (no AI, no TRANSCRIBER_URL), and says so", () => {
    expect(selectTranscriber(env)).toEqual({
      transcriber: undefined,
      why: "no AI binding and no TRANSCRIBER_URL: voice messages stay untranscribed",
    });
  });

  it("picks the HTTP service when TRANSCRIBER_URL is set", () => {
    const choice = selectTranscriber({ ...env, TRANSCRIBER_URL: "http://127.0.0.1:8790" });
    expect(choice.transcriber).toBeInstanceOf(HttpTranscriber);
    expect(choice.transcriber!.engine).toBe("pocketsphinx");
    expect(choice.why).toBe("the transcriber at http://127.0.0.1:8790");
  });

  it("picks Workers AI when the AI binding is there, whatever TRANSCRIBER_URL says", () => {
    const { ai } = standInAi();
    const choice = selectTranscriber({ AI: ai, TRANSCRIBER_URL: "http://127.0.0.1:8790" });
    expect(choice.transcriber).toBeInstanceOf(WorkersAiTranscriber);
    expect(choice.why).toBe("the AI binding (Workers AI)");
  });

  it("picks none, saying why, for a TRANSCRIBER_URL that is not http(s)", () => {
    for (const url of ["localhost:8790", "ftp://x", "  "]) {
      const choice = selectTranscriber({ TRANSCRIBER_URL: url });
      expect(choice.transcriber).toBeUndefined();
      expect(choice.why).toMatch(/untranscribed/);
    }
  });
});
