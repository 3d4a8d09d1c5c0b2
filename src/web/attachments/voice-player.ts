import type { Attachment } from "../../client/index.ts";
import { h } from "../dom.ts";
import { formatClock, nextSpeed, positionText } from "./media-rules.ts";
import { barsOf } from "./waveform.ts";

/** Fetches an attachment into a blob URL (the API wants the bearer token; a src cannot send it). */
export type BlobUrlOf = (attachmentId: string) => Promise<string>;

/**
 * A voice message's player (docs/attachments.md, "Playback"): play/pause, a seek slider (a range
 * input, for the keyboard and screen readers), the time against the duration from the
 * descriptor (WebM states none), speed 1×/1.5×/2×, and the waveform with the part played shown
 * over it. Every control is a 44 px target with no hover-only part. The audio is fetched on the
 * first play, not before: a room full of voice messages downloads only those played.
 */
export class VoicePlayer {
  readonly el: HTMLElement;
  readonly #audio = h("audio", { preload: "none", "data-testid": "voice-audio" });
  readonly #play = h(
    "button",
    {
      type: "button",
      class: "play",
      "data-testid": "voice-play",
      "aria-label": "Play voice message",
    },
    "▶",
  );
  readonly #seek = h("input", {
    type: "range",
    class: "seek",
    "data-testid": "voice-seek",
    min: 0,
    step: 100,
    value: 0,
    "aria-label": "Position",
  });
  readonly #time = h("span", { class: "voice-time", "data-testid": "voice-time" });
  readonly #speed = h(
    "button",
    { type: "button", class: "speed", "data-testid": "voice-speed" },
    "1×",
  );
  readonly #wave = h("canvas", {
    class: "wave",
    "data-testid": "voice-wave",
    "aria-hidden": "true",
  });
  readonly #durationMs: number;
  readonly #peaks: readonly number[];
  readonly #urlOf: BlobUrlOf;
  readonly #attachmentId: string;
  #loading: Promise<void> | undefined;
  #error = h("span", { class: "item-error", role: "alert", hidden: true });

  constructor(attachment: Attachment, urlOf: BlobUrlOf) {
    this.#durationMs = attachment.durationMs ?? 0;
    this.#peaks = attachment.waveform ?? [];
    this.#urlOf = urlOf;
    this.#attachmentId = attachment.id;
    this.#seek.max = String(this.#durationMs);
    this.el = h(
      "div",
      {
        class: "voice",
        "data-testid": "voice",
        "data-duration-ms": this.#durationMs,
        "data-peaks": this.#peaks.length,
        role: "group",
        "aria-label": `Voice message, ${formatClock(this.#durationMs)}`,
      },
      this.#play,
      h("div", { class: "voice-track" }, this.#wave, this.#seek),
      this.#time,
      this.#speed,
      this.#audio,
      this.#error,
    );
    this.#play.addEventListener("click", () => void this.#toggle());
    this.#speed.addEventListener("click", () =>
      this.#setSpeed(nextSpeed(this.#audio.playbackRate)),
    );
    this.#seek.addEventListener("input", () => void this.#seekTo(Number(this.#seek.value)));
    this.#audio.addEventListener("timeupdate", () => this.#show());
    this.#audio.addEventListener("play", () => this.#show());
    this.#audio.addEventListener("pause", () => this.#show());
    this.#audio.addEventListener("ended", () => this.#show());
    this.#setSpeed(1);
    this.#show();
    // Drawn once in the page, when its width is known.
    requestAnimationFrame(() => this.#draw());
  }

  get #currentMs(): number {
    return Math.min(this.#durationMs, Math.round(this.#audio.currentTime * 1000));
  }

  async #toggle(): Promise<void> {
    if (!this.#audio.paused) return this.#audio.pause();
    if (!(await this.#load())) return;
    if (this.#audio.ended || this.#currentMs >= this.#durationMs) this.#audio.currentTime = 0;
    await this.#audio.play().catch((error: unknown) => this.#fail(error));
  }

  async #seekTo(ms: number): Promise<void> {
    if (!(await this.#load())) return;
    this.#audio.currentTime = ms / 1000;
    this.#show();
  }

  /** Fetches the audio once; false (with the reason shown) when it cannot be had. */
  async #load(): Promise<boolean> {
    this.#loading ??= this.#urlOf(this.#attachmentId).then((url) => {
      const rate = this.#audio.playbackRate;
      this.#audio.src = url;
      this.#audio.load();
      // load() resets the rate to the default one.
      this.#audio.playbackRate = rate;
      this.#audio.defaultPlaybackRate = rate;
    });
    try {
      await this.#loading;
      return true;
    } catch (error) {
      this.#loading = undefined;
      this.#fail(error);
      return false;
    }
  }

  #setSpeed(rate: number): void {
    this.#audio.playbackRate = rate;
    this.#audio.defaultPlaybackRate = rate;
    this.#speed.textContent = `${rate}×`;
    this.#speed.setAttribute("aria-label", `Speed ${rate}×, change`);
  }

  #fail(error: unknown): void {
    this.#error.textContent = `Cannot play: ${error instanceof Error ? error.message : String(error)}`;
    this.#error.hidden = false;
  }

  #show(): void {
    const playing = !this.#audio.paused && !this.#audio.ended;
    this.#play.textContent = playing ? "❚❚" : "▶";
    this.#play.setAttribute("aria-label", playing ? "Pause voice message" : "Play voice message");
    this.#play.setAttribute("aria-pressed", String(playing));
    const now = this.#currentMs;
    // The slider is not moved under a finger or a key that holds it.
    if (document.activeElement !== this.#seek || playing) this.#seek.value = String(now);
    this.#seek.setAttribute("aria-valuetext", positionText(now, this.#durationMs));
    this.#time.textContent = `${formatClock(now)} / ${formatClock(this.#durationMs)}`;
    this.#draw();
  }

  /** The waveform's bars, those before the position in the accent colour. */
  #draw(): void {
    const canvas = this.#wave;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    const scale = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * scale)) canvas.width = Math.round(width * scale);
    if (canvas.height !== Math.round(height * scale)) canvas.height = Math.round(height * scale);
    const context = canvas.getContext("2d");
    if (!context) return;
    const style = getComputedStyle(canvas);
    const played = style.getPropertyValue("--played").trim() || "#2857c5";
    const rest = style.getPropertyValue("--unplayed").trim() || "#9aa4b0";
    context.setTransform(scale, 0, 0, scale, 0, 0);
    context.clearRect(0, 0, width, height);
    const bars = barsOf(this.#peaks, Math.max(1, Math.floor(width / 4)));
    const progress = this.#durationMs ? this.#currentMs / this.#durationMs : 0;
    bars.forEach((bar, i) => {
      const x = i * 4;
      const barHeight = Math.max(2, bar * height);
      context.fillStyle = (i + 0.5) / bars.length <= progress ? played : rest;
      context.fillRect(x, (height - barHeight) / 2, 3, barHeight);
    });
  }
}
