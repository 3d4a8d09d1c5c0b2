/**
 * The local transcriber's pure parts (src/transcriber/): the tools' arguments, pocketsphinx's
 * result files, the Whisper-shaped answer, the request's checks, the settings and the job queue;
 * and the Whisper mapper both of the worker's back ends share (src/transcription/whisper.ts).
 * The service itself, with the real tools: transcriber-service.test.ts.
 */
import { describe, expect, it } from "vitest";
import { LIMITS_ATTACHMENTS } from "../../src/protocol/attachments.ts";
import { segmentsOf, whisperAnswer } from "../../src/transcriber/answer.ts";
import { ffmpegArgs, modelPaths, sphinxArgs } from "../../src/transcriber/commands.ts";
import { ServiceError } from "../../src/transcriber/errors.ts";
import { parseHyp, parseHypseg } from "../../src/transcriber/hypseg.ts";
import { optionsFromEnv } from "../../src/transcriber/options.ts";
import { JobQueue, QueueFull } from "../../src/transcriber/queue.ts";
import { parseTranscribeRequest } from "../../src/transcriber/request.ts";
import { toBase64, toTranscript, WhisperOutput } from "../../src/transcription/whisper.ts";
import {
  contentWords,
  contentWordsFound,
  meetsTranscriptBar,
  wordErrorRate,
} from "../support/voice.ts";

// Real output of pocketsphinx_batch 0.8 on "we will meet at the office tomorrow morning"
// (espeak-ng, Opus 16 kbit/s WebM), and on an empty file.
const HYP = "we will eat at the office tomorrow morning (utt1 -13914)\n";
const HYPSEG =
  "utt1 S 0 T -11740561 A -11738112 L -2449 0 -212992 0 <s> 3 -618496 -274 we 13 -1278976 -251 will " +
  "37 -692224 -446 eat 53 -973824 -238 at 70 -429056 -122 the 83 -2182144 -369 office 118 -1915904 " +
  "-458 tomorrow 155 -1717248 -217 morning 195 -1717248 -74 </s> 228\n";
const EMPTY_HYP = " (e 0)\n";
const EMPTY_HYPSEG = "e S 0 T 0 A 0 L 0 0\n";

describe("the tools' arguments", () => {
  it("ffmpeg reads stdin and writes raw 16 kHz mono s16le, stopping a second past the limit", () => {
    const args = ffmpegArgs("/tmp/j/utt.raw", 300);
    expect(args.join(" ")).toBe(
      "-hide_banner -loglevel error -nostdin -i pipe:0 -t 301 -vn -ac 1 -ar 16000 -f s16le -y /tmp/j/utt.raw",
    );
  });

  it("pocketsphinx_batch reads the raw utterance and writes its two result files", () => {
    const args = sphinxArgs({
      dir: "/tmp/j",
      ctlFile: "/tmp/j/ctl",
      hypFile: "/tmp/j/out.hyp",
      segFile: "/tmp/j/out.seg",
      modelDir: "/m",
    });
    const flags = new Map<string, string>();
    for (let i = 0; i < args.length; i += 2) flags.set(args[i]!, args[i + 1]!);
    expect(Object.fromEntries(flags)).toEqual({
      "-adcin": "yes",
      "-cepdir": "/tmp/j",
      "-cepext": ".raw",
      "-ctl": "/tmp/j/ctl",
      "-hyp": "/tmp/j/out.hyp",
      "-hypseg": "/tmp/j/out.seg",
      "-hmm": "/m/en-us",
      "-lm": "/m/en-us.lm.bin",
      "-dict": "/m/cmudict-en-us.dict",
      "-logfn": "/dev/null",
    });
    expect(modelPaths("/m")).toEqual({
      hmm: "/m/en-us",
      lm: "/m/en-us.lm.bin",
      dict: "/m/cmudict-en-us.dict",
    });
  });
});

describe("pocketsphinx's result files", () => {
  it("-hyp: the text without the utterance id and score", () => {
    expect(parseHyp(HYP)).toBe("we will eat at the office tomorrow morning");
    expect(parseHyp(EMPTY_HYP)).toBe("");
    expect(parseHyp("and(2) so <sil> [NOISE] on (u -5)")).toBe("and so on");
  });

  it("-hypseg: each stretch with its frames, fillers marked, the last ending at the end frame", () => {
    const entries = parseHypseg(HYPSEG);
    expect(entries).toHaveLength(10);
    expect(entries[0]).toEqual({ word: "<s>", startFrame: 0, endFrame: 3, filler: true });
    expect(entries[1]).toEqual({ word: "we", startFrame: 3, endFrame: 13, filler: false });
    expect(entries.at(-1)).toEqual({ word: "</s>", startFrame: 195, endFrame: 228, filler: true });
    expect(parseHypseg(EMPTY_HYPSEG)).toEqual([]);
  });

  it("-hypseg: variant marks dropped, noise words are fillers", () => {
    const entries = parseHypseg(
      "u S 0 T -1 A -1 L -1 0 -1 0 <s> 5 -1 -1 and(2) 20 -1 -1 [NOISE] 30 -1 -1 <sil> 90 -1 -1 so 99",
    );
    expect(entries.map((e) => [e.word, e.filler])).toEqual([
      ["<s>", true],
      ["and", false],
      ["[NOISE]", true],
      ["<sil>", true],
      ["so", false],
    ]);
  });

  it("-hypseg: a line of another form is an error, not a wrong transcript", () => {
    expect(() => parseHypseg("")).toThrow(/not a pocketsphinx -hypseg line/);
    expect(() => parseHypseg("u S 0 T -1 A -1 L -1 0 -1 0 <s>")).toThrow(/broken word list/);
    expect(() => parseHypseg("u S 0 T -1 A -1 L -1 x -1 0 <s> 5")).toThrow(/frame/);
  });
});

describe("the answer in Whisper's shape", () => {
  it("has the text, the word count, one segment with word times in seconds, and the duration", () => {
    const answer = whisperAnswer(parseHyp(HYP), parseHypseg(HYPSEG), 2.302);
    expect(WhisperOutput.safeParse(answer).success).toBe(true);
    expect(answer.text).toBe("we will eat at the office tomorrow morning");
    expect(answer.word_count).toBe(8);
    expect(answer.transcription_info).toEqual({ language: "en", duration: 2.302 });
    expect(answer.segments).toHaveLength(1);
    const [segment] = answer.segments;
    expect(segment).toMatchObject({ start: 0.03, end: 1.95, text: answer.text });
    expect(segment!.words[0]).toEqual({ word: "we", start: 0.03, end: 0.13 });
    expect(segment!.words.at(-1)).toEqual({ word: "morning", start: 1.55, end: 1.95 });
  });

  it("splits segments at pauses of 0.4 s or more, not at shorter ones", () => {
    const entry = (word: string, startFrame: number, endFrame: number) => ({
      word,
      startFrame,
      endFrame,
      filler: word.startsWith("<"),
    });
    const segments = segmentsOf([
      entry("<s>", 0, 10),
      entry("one", 10, 40),
      entry("<sil>", 40, 60), // 0.2 s: the same phrase
      entry("two", 60, 90),
      entry("<sil>", 90, 130), // 0.4 s: a new segment
      entry("three", 130, 170),
      entry("</s>", 170, 200),
    ]);
    expect(segments.map((s) => [s.start, s.end, s.text])).toEqual([
      [0.1, 0.9, "one two"],
      [1.3, 1.7, "three"],
    ]);
  });

  it("is empty, with no segments, when nothing was heard", () => {
    expect(whisperAnswer(parseHyp(EMPTY_HYP), parseHypseg(EMPTY_HYPSEG), 1)).toEqual({
      text: "",
      word_count: 0,
      segments: [],
      transcription_info: { language: "en", duration: 1 },
    });
  });
});

describe("the request", () => {
  const refusal = (body: unknown) => {
    try {
      parseTranscribeRequest(body);
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      return { code: (error as ServiceError).code, message: (error as ServiceError).message };
    }
    throw new Error("accepted");
  };

  it("takes Whisper's input, its options included", () => {
    expect(
      parseTranscribeRequest({
        audio: "QUJD",
        task: "translate",
        language: "en",
        vad_filter: true,
        initial_prompt: "a meeting",
        beam_size: 5,
        condition_on_previous_text: false,
        no_speech_threshold: 0.6,
      }),
    ).toMatchObject({ audio: "QUJD", task: "translate" });
  });

  it("refuses what Workers AI refuses, with a message that names the field", () => {
    expect(refusal({})).toEqual({
      code: "bad_request",
      message: "audio is required: the recording's bytes in base64",
    });
    expect(refusal([1])).toMatchObject({ message: /JSON object/ });
    expect(refusal("QUJD")).toMatchObject({ message: /JSON object/ });
    expect(refusal({ audio: "not base64!" })).toMatchObject({ message: /^audio: .*base64/ });
    expect(refusal({ audio: "QUJ" })).toMatchObject({ message: /^audio: .*base64/ });
    expect(refusal({ audio: "" })).toMatchObject({ message: /audio/ });
    expect(refusal({ audio: 12 })).toMatchObject({ message: /^audio: / });
    expect(refusal({ audio: { body: {}, contentType: "audio/webm" } })).toMatchObject({
      message: /^audio: /,
    });
    expect(refusal({ audio: "QUJD", task: "summarize" })).toMatchObject({
      message: /^task: .*transcribe.*translate/,
    });
    expect(refusal({ audio: "QUJD", vad_filter: "yes" })).toMatchObject({
      message: /^vad_filter: .*boolean/,
    });
    expect(refusal({ audio: "QUJD", beam_size: 0 })).toMatchObject({ message: /^beam_size: / });
    expect(refusal({ audio: "QUJD", speed: 2 })).toMatchObject({ message: /speed/ });
  });

  it("refuses a language other than English: the model is US English", () => {
    expect(refusal({ audio: "QUJD", language: "fr" })).toEqual({
      code: "bad_request",
      message: "language: only en is transcribed here (the model is US English), not fr",
    });
    expect(refusal({ audio: "QUJD", language: "English" })).toMatchObject({
      message: /^language: /,
    });
  });
});

describe("the settings", () => {
  it("defaults to 127.0.0.1:8790, one job per core, 8 waiting, 300 s, 16 MiB, Debian's model", () => {
    const options = optionsFromEnv({});
    expect(options).toMatchObject({
      host: "127.0.0.1",
      port: 8790,
      queue: 8,
      jobTimeoutMs: 300_000,
      maxBodyBytes: 16 * 1024 * 1024,
      modelDir: "/usr/share/pocketsphinx/model/en-us",
      ffmpeg: "ffmpeg",
      pocketsphinx: "pocketsphinx_batch",
      maxSeconds: LIMITS_ATTACHMENTS.voiceMs / 1000,
    });
    expect(options.jobs).toBeGreaterThanOrEqual(1);
    expect(optionsFromEnv({ TRANSCRIBER_PORT: "0", TRANSCRIBER_JOBS: "1" })).toMatchObject({
      port: 0,
      jobs: 1,
    });
  });

  it("names a bad variable", () => {
    expect(() => optionsFromEnv({ TRANSCRIBER_JOBS: "0" })).toThrow(/TRANSCRIBER_JOBS/);
    expect(() => optionsFromEnv({ TRANSCRIBER_PORT: "http" })).toThrow(/TRANSCRIBER_PORT/);
  });
});

describe("the job queue", () => {
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };

  it("runs at most `running` jobs, queues `waiting` more, and refuses the next at once", async () => {
    const queue = new JobQueue({ running: 1, waiting: 1 });
    const first = gate();
    const started: string[] = [];
    const a = queue.run(async () => {
      started.push("a");
      await first.opened;
      return "a";
    });
    const b = queue.run(async () => {
      started.push("b");
      return "b";
    });
    expect([queue.running, queue.waiting]).toEqual([1, 1]);
    await expect(queue.run(async () => "c")).rejects.toBeInstanceOf(QueueFull);
    expect(started).toEqual(["a"]);
    first.open();
    expect(await Promise.all([a, b])).toEqual(["a", "b"]);
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });

  it("frees the slot of a job that fails", async () => {
    const queue = new JobQueue({ running: 1, waiting: 0 });
    await expect(queue.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await queue.run(async () => 1)).toBe(1);
  });

  it("lets a waiting job given up by its caller leave the line", async () => {
    const queue = new JobQueue({ running: 1, waiting: 1 });
    const first = gate();
    const a = queue.run(() => first.opened);
    const leave = new AbortController();
    let ran = false;
    const b = queue.run(async () => {
      ran = true;
    }, leave.signal);
    leave.abort(new Error("gone"));
    await expect(b).rejects.toThrow("gone");
    expect(queue.waiting).toBe(0);
    first.open();
    await a;
    expect(ran).toBe(false);
    expect(queue.running).toBe(0);
  });
});

describe("the Whisper mapper of both back ends", () => {
  it("trims, keeps timed segments with text, and reads language and duration", () => {
    expect(
      toTranscript({
        text: "  Hello there.  ",
        segments: [
          { start: 0, end: 1.2, text: " Hello there.", words: [] },
          { start: 1.2, end: 1.5, text: "   " },
          { text: "no times" },
          { start: -0.1, end: -0.5, text: "clamped" },
        ],
        transcription_info: { language: "EN", duration: 1.5 },
      }),
    ).toEqual({
      text: "Hello there.",
      segments: [
        { start: 0, end: 1.2, text: "Hello there." },
        { start: 0, end: 0, text: "clamped" },
      ],
      language: "en",
      durationS: 1.5,
    });
    expect(toTranscript({ text: "" })).toEqual({ text: "" });
  });

  it("caps the text and the segments to the contract's limits", () => {
    const long = "ab".repeat(LIMITS_ATTACHMENTS.transcriptChars);
    const many = Array.from({ length: LIMITS_ATTACHMENTS.transcriptSegments + 5 }, (_, i) => ({
      start: i,
      end: i + 1,
      text: long,
    }));
    const transcript = toTranscript({ text: long, segments: many });
    expect(transcript.text).toHaveLength(LIMITS_ATTACHMENTS.transcriptChars);
    expect(transcript.segments).toHaveLength(LIMITS_ATTACHMENTS.transcriptSegments);
    expect(transcript.segments![0]!.text).toHaveLength(LIMITS_ATTACHMENTS.transcriptChars);
    // Never half of a surrogate pair at the cut.
    const emoji = "x".repeat(LIMITS_ATTACHMENTS.transcriptChars - 1) + "😀";
    expect(toTranscript({ text: emoji }).text).toHaveLength(LIMITS_ATTACHMENTS.transcriptChars - 1);
  });

  it("base64 without the native method (Node) matches Buffer's, large inputs included", () => {
    const bytes = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 131) % 256);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    expect(toBase64(new Uint8Array([1, 2, 3, 250]))).toBe("AQID+g==");
    expect(toBase64(new Uint8Array())).toBe("");
  });
});

describe("the accuracy measures (test/support/voice.ts)", () => {
  it("counts content words and word errors", () => {
    const sentence = "we will meet at the office tomorrow morning";
    expect(contentWords(sentence)).toEqual(["will", "meet", "office", "tomorrow", "morning"]);
    expect(contentWordsFound(sentence, "we will eat at the office tomorrow morning")).toBe(4);
    expect(wordErrorRate(sentence, "we will eat at the office tomorrow morning")).toBe(1 / 8);
    expect(wordErrorRate(sentence, "")).toBe(1);
    expect(wordErrorRate("a b c", "a x b c d")).toBe(2 / 3);
  });

  it("holds a transcript to the bar: 2 content words, or 40 % of them", () => {
    const sentence = "we will meet at the office tomorrow morning";
    expect(meetsTranscriptBar(sentence, "the office we")).toBe(false);
    expect(meetsTranscriptBar(sentence, "office morning")).toBe(true);
    expect(meetsTranscriptBar("cold rainy", "rainy")).toBe(true);
  });
});
