import { LIMITS_ATTACHMENTS } from "../../client/index.ts";
import { h } from "../dom.ts";
import { formatClock } from "./media-rules.ts";
import { RecordingError, VoiceRecorder, type Recording } from "./voice-recorder.ts";

/** A press shorter than this is a click: recording goes on until the next press (toggle mode). */
const HOLD_MS = 350;

const IDLE_LABEL = "Record a voice message";
const TIP =
  "Hold to record, release to send. Slide off the button before releasing to cancel. " +
  "Or press once to start and again to send; Escape cancels.";

type Mode = "idle" | "starting" | "hold" | "toggle" | "finishing";

/**
 * The composer's microphone button (docs/attachments.md, "Recording"): hold to record, release
 * to send; slide off and release to cancel; a short press (mouse, touch, Space or Enter) starts
 * a recording that the next press sends, for those who cannot hold. Escape cancels. A timer shows
 * the time recorded against the five minutes allowed.
 */
export class MicButton {
  readonly el: HTMLElement;
  readonly #button = h(
    "button",
    {
      type: "button",
      class: "mic",
      "data-testid": "mic",
      "aria-pressed": "false",
      "aria-label": IDLE_LABEL,
      title: TIP,
    },
    "🎤",
  );
  readonly #timer = h("span", {
    class: "mic-timer",
    "data-testid": "mic-timer",
    role: "timer",
    "aria-live": "off",
    hidden: true,
  });
  readonly #send: (recording: Recording) => void;
  readonly #fail: (message: string) => void;
  #mode: Mode = "idle";
  #recorder: VoiceRecorder | undefined;
  #pressedAt = 0;
  /** The pointer is off the button: releasing now cancels. */
  #off = false;
  /** A press already handled by pointer events: the click after it is not a second press. */
  #swallowClick = false;
  #tick: ReturnType<typeof setInterval> | undefined;

  constructor(send: (recording: Recording) => void, fail: (message: string) => void) {
    this.#send = send;
    this.#fail = fail;
    this.el = h("div", { class: "mic-box" }, this.#timer, this.#button);
    const b = this.#button;
    b.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      // Touch captures the pointer implicitly; capture for the mouse too, to hear the release.
      b.setPointerCapture(event.pointerId);
      this.#swallowClick = true;
      this.#press();
    });
    b.addEventListener("pointermove", (event) => this.#track(event));
    b.addEventListener("pointerup", (event) => {
      if (event.button !== 0) return;
      this.#track(event);
      this.#release(this.#off);
    });
    b.addEventListener("pointercancel", () => this.#release(true));
    b.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.recording) {
        event.preventDefault();
        return void this.cancel();
      }
      if (event.key !== " " && event.key !== "Enter") return;
      event.preventDefault();
      if (!event.repeat) this.#press();
    });
    b.addEventListener("keyup", (event) => {
      if (event.key !== " " && event.key !== "Enter") return;
      event.preventDefault();
      this.#release(false);
    });
    // A click with no press before it (a screen reader's activation): toggles.
    b.addEventListener("click", () => {
      if (this.#swallowClick) return void (this.#swallowClick = false);
      this.#press();
      this.#release(false);
    });
  }

  get recording(): boolean {
    return this.#mode === "hold" || this.#mode === "toggle" || this.#mode === "starting";
  }

  setEnabled(enabled: boolean): void {
    this.#button.disabled = !enabled;
    if (!enabled && this.recording) void this.cancel();
  }

  /** Stops and discards the recording (Escape, the room closing). */
  async cancel(): Promise<void> {
    const recorder = this.#recorder;
    this.#reset();
    await recorder?.cancel();
  }

  #press(): void {
    if (this.#mode === "toggle") {
      // The second press of a toggle: its release sends.
      this.#mode = "hold";
      this.#pressedAt = 0;
      return;
    }
    if (this.#mode !== "idle") return;
    this.#pressedAt = performance.now();
    this.#off = false;
    this.#mode = "starting";
    this.#show();
    VoiceRecorder.start(() => void this.#finish(false)).then(
      (recorder) => {
        if (this.#mode === "idle") return void recorder.cancel();
        this.#recorder = recorder;
        if (this.#mode === "starting") this.#mode = "hold";
        if (this.#mode === "finishing") return void this.#finish(this.#off);
        this.#tick = setInterval(() => this.#showTime(), 250);
        this.#showTime();
      },
      (error: unknown) => {
        this.#reset();
        this.#fail(error instanceof RecordingError ? error.message : String(error));
      },
    );
  }

  #release(cancel: boolean): void {
    if (this.#mode !== "hold" && this.#mode !== "starting") return;
    const held = this.#pressedAt > 0 ? performance.now() - this.#pressedAt : HOLD_MS;
    if (!cancel && held < HOLD_MS) {
      // A click: keep recording until the next press.
      this.#mode = "toggle";
      return this.#show();
    }
    if (this.#mode === "starting") {
      // Released before the microphone answered: finish once it does.
      this.#off = cancel;
      this.#mode = "finishing";
      return;
    }
    void this.#finish(cancel);
  }

  async #finish(cancel: boolean): Promise<void> {
    const recorder = this.#recorder;
    if (!recorder) return;
    this.#reset();
    if (cancel) return recorder.cancel();
    try {
      this.#send(await recorder.stop());
    } catch (error) {
      this.#fail(error instanceof RecordingError ? error.message : String(error));
    }
  }

  /** Whether the pointer is still over the button: off it, the release cancels. */
  #track(event: PointerEvent): void {
    if (this.#mode !== "hold" && this.#mode !== "starting") return;
    const box = this.#button.getBoundingClientRect();
    const off =
      event.clientX < box.left ||
      event.clientX > box.right ||
      event.clientY < box.top ||
      event.clientY > box.bottom;
    if (off !== this.#off) {
      this.#off = off;
      this.#show();
    }
  }

  #reset(): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
    this.#recorder = undefined;
    this.#mode = "idle";
    this.#off = false;
    this.#show();
  }

  /** The button's name, state and the timer, as the mode says. */
  #show(): void {
    const on = this.recording;
    const b = this.#button;
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("recording", on);
    b.classList.toggle("cancelling", on && this.#off);
    b.setAttribute(
      "aria-label",
      !on
        ? IDLE_LABEL
        : this.#off
          ? "Release to cancel the voice message"
          : this.#mode === "toggle"
            ? "Stop and send the voice message"
            : "Recording: release to send",
    );
    this.#timer.hidden = !on;
    if (!on) this.#timer.textContent = "";
  }

  #showTime(): void {
    const elapsed = this.#recorder?.elapsedMs ?? 0;
    this.#timer.textContent = `${this.#off ? "Release to cancel · " : "● "}${formatClock(elapsed)} / ${formatClock(LIMITS_ATTACHMENTS.voiceMs)}`;
  }
}
