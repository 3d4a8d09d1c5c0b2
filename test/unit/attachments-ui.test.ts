import { describe, expect, it } from "vitest";
import {
  LIMITS_ATTACHMENTS,
  RoomEvent,
  type Attachment,
  type EventType,
  type Message,
} from "../../src/client/index.ts";
import { NewUpload } from "../../src/protocol/attachments.ts";
import {
  formatBytes,
  formatClock,
  kindOfFile,
  mustStopRecording,
  nextSpeed,
  pickRecordingType,
  positionText,
  recordingErrorText,
  recordingName,
  sizeProblem,
  uploadName,
} from "../../src/web/attachments/media-rules.ts";
import { transcriptLine } from "../../src/web/attachments/transcript.ts";
import { barsOf, peakCount, peaks } from "../../src/web/attachments/waveform.ts";
import {
  initialChatState,
  reduce,
  type ChatAction,
  type ChatState,
} from "../../src/web/chat-state.ts";

describe("waveform peaks", () => {
  it("takes the loudest sample of each stretch, scaled so the loudest is 255", () => {
    expect(peaks([new Float32Array([0, 0.5, -1, 0.25])], 2)).toEqual([128, 255]);
    expect(peaks([new Float32Array([0.1, -0.2, 0.05, 0.1])], 4)).toEqual([128, 255, 64, 128]);
  });

  it("hears every channel, and gives silence as zeros", () => {
    const left = new Float32Array([0.5, 0, 0, 0]);
    const right = new Float32Array([0, 0, 0, -0.25]);
    expect(peaks([left, right], 2)).toEqual([255, 128]);
    expect(peaks([new Float32Array(1000)], 64)).toEqual(Array(64).fill(0));
  });

  it("never gives more than 128 peaks, nor more than there are samples, nor none", () => {
    const long = new Float32Array(48_000 * 60).map((_, i) => Math.sin(i / 10));
    const wave = peaks([long], 500);
    expect(wave).toHaveLength(LIMITS_ATTACHMENTS.waveformPeaks);
    expect(wave.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)).toBe(true);
    expect(peaks([new Float32Array([0.3, 0.3, 0.3])], 64)).toEqual([255, 255, 255]);
    expect(peaks([], 64)).toEqual([0]);
    expect(peaks([new Float32Array(0)], 64)).toEqual([0]);
  });

  it("uses 64 peaks for short recordings, one per quarter second up to 128", () => {
    expect(peakCount(3_600)).toBe(64);
    expect(peakCount(20_000)).toBe(80);
    expect(peakCount(300_000)).toBe(128);
  });

  it("stretches a waveform to the bars drawn, silence still a thin line", () => {
    expect(barsOf([0, 255], 4)).toEqual([0.06, 0.06, 1, 1]);
    expect(barsOf([], 4)).toEqual([]);
    expect(barsOf([255, 0, 128], 0)).toEqual([]);
  });
});

describe("recording rules", () => {
  it("records the first type the browser supports: WebM, then Ogg, then MP4", () => {
    const chromium = new Set(["audio/webm;codecs=opus", "audio/webm", "audio/mp4"]);
    expect(pickRecordingType((t) => chromium.has(t))).toBe("audio/webm;codecs=opus");
    expect(pickRecordingType((t) => t === "audio/ogg;codecs=opus")).toBe("audio/ogg;codecs=opus");
    expect(pickRecordingType((t) => t === "audio/mp4")).toBe("audio/mp4");
    expect(pickRecordingType(() => false)).toBeUndefined();
  });

  it("stops at five minutes, or before the next second could pass 10 MiB", () => {
    expect(mustStopRecording(299_000, 900_000)).toBe(false);
    expect(mustStopRecording(300_000, 900_000)).toBe(true);
    // 24 kbit/s for a minute: 180 kB, far from the limit.
    expect(mustStopRecording(60_000, 180_000)).toBe(false);
    const limit = LIMITS_ATTACHMENTS.voiceBytes;
    expect(mustStopRecording(10_000, limit - 100)).toBe(true);
    expect(mustStopRecording(10_000, limit / 2)).toBe(false);
  });

  it("says what to do when the microphone is refused, missing or busy", () => {
    const named = (name: string) => new DOMException("x", name);
    expect(recordingErrorText(named("NotAllowedError"))).toMatch(/blocked.*Allow it/);
    expect(recordingErrorText(named("NotFoundError"))).toMatch(/No microphone/);
    expect(recordingErrorText(named("NotReadableError"))).toMatch(/in use/);
    expect(recordingErrorText(new Error("odd"))).toBe("Recording failed: odd");
  });

  it("names a recording after its container", () => {
    expect(recordingName("audio/webm;codecs=opus")).toBe("voice-message.webm");
    expect(recordingName("audio/ogg;codecs=opus")).toBe("voice-message.ogg");
    expect(recordingName("audio/mp4")).toBe("voice-message.m4a");
  });
});

describe("attached files", () => {
  it("uploads the four image types as images and anything else as a file", () => {
    for (const type of ["image/png", "image/jpeg", "image/gif", "image/webp"])
      expect(kindOfFile({ type })).toBe("image");
    for (const type of ["image/svg+xml", "application/pdf", "audio/mpeg", ""])
      expect(kindOfFile({ type })).toBe("file");
  });

  it("refuses an empty file and one over its kind's size before sending a byte", () => {
    expect(sizeProblem("image", 25 * 1024 * 1024)).toBeUndefined();
    expect(sizeProblem("image", 25 * 1024 * 1024 + 1)).toBe("Too large: images are at most 25 MB.");
    expect(sizeProblem("file", 100 * 1024 * 1024 + 1)).toBe("Too large: files are at most 100 MB.");
    expect(sizeProblem("file", 0)).toBe("The file is empty.");
  });

  it("uploads a name the contract takes: no slashes or control characters, 200 at most", () => {
    expect(uploadName("report.pdf")).toBe("report.pdf");
    expect(uploadName("a/b\\c\u0007.txt")).toBe("a_b_c_.txt");
    expect(uploadName("   ")).toBe("pasted");
    expect(uploadName("x".repeat(300))).toHaveLength(200);
  });

  it("makes bidirectional controls `_`, so a name the server refuses is never sent", () => {
    expect(uploadName("invoice\u202Efdp.exe")).toBe("invoice_fdp.exe");
    expect(uploadName("a\u2066b\u2069.png")).toBe("a_b_.png");
    for (const name of ["invoice\u202Efdp.exe", "a\u202Ab\u202C.png", "מסמך.pdf"])
      expect(NewUpload.safeParse({ kind: "file", name: uploadName(name), size: 1 }).success).toBe(
        true,
      );
    expect(NewUpload.safeParse({ kind: "file", name: "a\u202Eb", size: 1 }).success).toBe(false);
  });
});

describe("the player's times", () => {
  it("shows minutes and seconds, rounded down", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(3_999)).toBe("0:03");
    expect(formatClock(65_000)).toBe("1:05");
    expect(formatClock(300_000)).toBe("5:00");
    expect(formatClock(-5)).toBe("0:00");
    expect(formatClock(Number.POSITIVE_INFINITY)).toBe("0:00");
    expect(positionText(1_500, 10_000)).toBe("0:01 of 0:10");
  });

  it("cycles the speed 1×, 1.5×, 2× and back", () => {
    expect(nextSpeed(1)).toBe(1.5);
    expect(nextSpeed(1.5)).toBe(2);
    expect(nextSpeed(2)).toBe(1);
    expect(nextSpeed(0.7)).toBe(1);
  });

  it("shows sizes in B, KB and MB", () => {
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(2_560)).toBe("2.5 KB");
    expect(formatBytes(12_800)).toBe("13 KB");
    expect(formatBytes(12 * 1024 * 1024)).toBe("12 MB");
  });
});

// ---- the chat model: attachments and transcripts are state derived from events

const BOB = { id: "bob", name: "bob" };
const TRANSCRIBER = { id: "bot:transcriber", name: "Transcriber" };
const VOICE: Attachment = {
  id: "AAAAAAAAAAAAAAAAAAAAAA",
  kind: "voice",
  name: "voice-message.webm",
  type: "audio/webm",
  size: 9_000,
  durationMs: 3_600,
  waveform: [0, 128, 255],
};
const IMAGE: Attachment = {
  id: "BBBBBBBBBBBBBBBBBBBBBB",
  kind: "image",
  name: "cat.png",
  type: "image/png",
  size: 2_000,
};

function event(seq: number, type: EventType, data: object, actor = BOB): RoomEvent {
  return RoomEvent.parse({ seq, id: `e${seq}`, type, at: 1000 + seq, actor, data });
}
const transcribed = (seq: number, messageId: number, text: string) =>
  event(
    seq,
    "message.transcribed",
    { messageId, attachmentId: VOICE.id, text, engine: "pocketsphinx" },
    TRANSCRIBER,
  );
const LOOKING = { visible: true, atBottom: true };

function play(state: ChatState, ...actions: ChatAction[]): ChatState {
  for (const action of actions) state = reduce(state, action).state;
  return state;
}
function opened(): ChatState {
  return play(
    initialChatState,
    { type: "room-found", topic: "", slowModeSeconds: 0 },
    { type: "page", generation: 0, page: { messages: [], nextBefore: null }, older: false },
    { type: "load-ended", generation: 0, seen: LOOKING },
  );
}
const live = (e: RoomEvent): ChatAction => ({ type: "event", event: e, seen: LOOKING });
const lineOf = (state: ChatState, id: number) =>
  transcriptLine(state.timeline.messages.get(id)!.attachments![0]!);

describe("chat state: attachments and transcripts", () => {
  it("shows a voice message as transcribing until message.transcribed, then its text", () => {
    const post = event(5, "message.posted", { text: "", attachments: [VOICE, IMAGE] });
    let state = play(opened(), live(post));
    const m = state.timeline.messages.get(5)!;
    expect(m.attachments?.map((a) => a.kind)).toEqual(["voice", "image"]);
    expect(lineOf(state, 5)).toEqual({ state: "pending", text: "Transcribing…" });
    state = play(state, live(transcribed(6, 5, "we will meet at the office")));
    expect(lineOf(state, 5)).toEqual({ state: "done", text: "we will meet at the office" });
    // Replayed after a reconnect: nothing changes twice.
    const again = play(state, live(transcribed(6, 5, "we will meet at the office")));
    expect(lineOf(again, 5)).toEqual(lineOf(state, 5));
  });

  it("says no speech was heard for an empty transcript", () => {
    const state = play(
      opened(),
      live(event(5, "message.posted", { text: "", attachments: [VOICE] })),
      live(transcribed(6, 5, "  ")),
    );
    expect(lineOf(state, 5)).toEqual({ state: "empty", text: "No speech heard" });
  });

  it("takes a transcript already on a history page's attachment", () => {
    const message: Message = {
      id: 5,
      author: BOB,
      text: "listen",
      at: 1005,
      reactions: {},
      attachments: [{ ...VOICE, transcript: { text: "hello there", engine: "pocketsphinx" } }],
    };
    const state = play(initialChatState, {
      type: "page",
      generation: 0,
      page: { messages: [message], nextBefore: null },
      older: false,
    });
    expect(lineOf(state, 5)).toEqual({ state: "done", text: "hello there" });
  });

  it("drops a redacted message's files and ignores a transcript of a message not loaded", () => {
    let state = play(
      opened(),
      live(event(5, "message.posted", { text: "x", attachments: [VOICE] })),
      live(event(6, "message.redacted", { messageId: 5 })),
    );
    expect(state.timeline.messages.get(5)!.attachments).toBeUndefined();
    const before = state.timeline;
    state = play(state, live(transcribed(7, 99, "nobody's")));
    expect(state.timeline).toBe(before);
  });

  it("keeps a post with files pending, with its count, until its message shows", () => {
    let state = play(opened(), { type: "sending", id: 1, text: "", files: 2 });
    expect(state.pending).toEqual([{ id: 1, text: "", files: 2 }]);
    state = play(
      state,
      { type: "acked", id: 1, seq: 5 },
      live(event(5, "message.posted", { text: "", attachments: [IMAGE] }, BOB)),
    );
    expect(state.pending).toEqual([]);
  });
});
