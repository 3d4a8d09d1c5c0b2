import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTranscriber, type RunningTranscriber } from "../support/transcriber.ts";
import { contentWordsFound } from "../support/voice.ts";
import { sideways, useChromiumApp } from "./app.ts";
import { executablePath, PHONE, requireChromium, SHOTS, WAIT } from "./chromium.ts";

/**
 * Voice messages and attachments in Chromium (docs/attachments.md, "In the UI"), against the real
 * worker: Chromium's fake microphone plays a sentence synthesized by espeak-ng; ada holds the
 * microphone button while it plays and releases; the voice message appears for bob (on a phone)
 * with its duration and waveform, plays, seeks and changes speed by keyboard. ada pastes an image
 * and drops a file; bob sees the preview, opens it full size, and downloads the file.
 */
requireChromium();

const SENTENCE = "we will meet at the office tomorrow morning";
const haveTools = ["espeak-ng", "sox", "ffmpeg"].every((tool) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
});
if (!haveTools) console.warn("voice-messages.test.ts: espeak-ng, sox and ffmpeg are needed (apt)");

describe.skipIf(!executablePath || !haveTools)("voice messages and attachments in Chromium", () => {
  let transcriber: RunningTranscriber;
  let dir: string;
  let wav: string;
  let wavMs: number;
  let png: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edgechat-voice-"));
    // espeak-ng's sentence with 0.3 s of silence around it, as the fake microphone's input.
    const said = join(dir, "said.wav");
    wav = join(dir, "mic.wav");
    execFileSync("espeak-ng", ["-v", "en-us", "-s", "175", "-w", said, SENTENCE]);
    execFileSync("sox", [said, wav, "pad", "0.3", "0.3"]);
    wavMs = Math.round(Number(execFileSync("soxi", ["-D", wav]).toString().trim()) * 1000);
    // A 64×48 PNG to paste.
    const pngPath = join(dir, "red.png");
    execFileSync("ffmpeg", [
      ...["-hide_banner", "-loglevel", "error", "-f", "lavfi"],
      ...["-i", "color=c=red:s=64x48", "-frames:v", "1", pngPath],
    ]);
    png = readFileSync(pngPath);
    transcriber = await startTranscriber();
  });

  afterAll(async () => {
    await transcriber?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const app = useChromiumApp({
    vars: () => ({ TRANSCRIBER_URL: transcriber.url }),
    launchArgs: () => [
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      "--autoplay-policy=no-user-gesture-required",
    ],
    contextOptions: { acceptDownloads: true },
  });
  const { problems, contexts } = app;

  const open = (name: string, viewport = { width: 1100, height: 800 }) =>
    app.openAsGuest(name, viewport);

  const lastMessage = (page: Page) =>
    page.locator("[data-testid=messages] [data-testid=message]").last();
  const audioState = (page: Page) =>
    page
      .locator("[data-testid=voice-audio]")
      .first()
      .evaluate((el) => {
        const audio = el as HTMLAudioElement;
        return { time: audio.currentTime, rate: audio.playbackRate, paused: audio.paused };
      });
  /**
   * Visible buttons and inputs in `within` under 44 px either way, named: stricter than app.ts's
   * smallTargets (width too), as the voice player's round controls must be.
   */
  const smallTargets = (within: Locator) =>
    within.locator("button, input").evaluateAll((els) =>
      els
        .filter((el) => (el as HTMLElement).offsetParent !== null)
        .filter((el) => {
          const box = el.getBoundingClientRect();
          return box.height < 44 || box.width < 44;
        })
        .map((el) => el.getAttribute("data-testid") ?? el.outerHTML.slice(0, 80)),
    );

  it("records by holding the microphone, and the voice message plays for someone else", async () => {
    const ada = await open("ada");
    await ada.getByTestId("room-name").fill("voices");
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    const bob = await open("bob", PHONE);
    await bob.goto(`${app.server.url}/#/room/voices`);
    await bob.getByTestId("compose").waitFor();

    // ada holds the button for the sentence's length, then lets go.
    const mic = ada.getByTestId("mic");
    expect(await mic.getAttribute("title")).toMatch(/Hold to record, release to send.*cancel/);
    const box = (await mic.boundingBox())!;
    await ada.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await ada.mouse.down();
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("true");
    await expect
      .poll(() => ada.getByTestId("mic-timer").textContent(), WAIT)
      .toMatch(/0:0\d \/ 5:00/);
    await ada.waitForTimeout(wavMs + 700);
    await ada.mouse.up();
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("false");

    // bob sees it: its duration (from the decoded audio) and its waveform.
    const voice = lastMessage(bob).getByTestId("voice");
    await voice.waitFor({ timeout: 30_000 });
    const durationMs = Number(await voice.getAttribute("data-duration-ms"));
    expect(durationMs).toBeGreaterThan(wavMs - 600);
    expect(durationMs).toBeLessThan(wavMs + 2_500);
    expect(Number(await voice.getAttribute("data-peaks"))).toBeGreaterThanOrEqual(64);
    const inked = await voice.getByTestId("voice-wave").evaluate((el) => {
      const canvas = el as HTMLCanvasElement;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted += 1;
      return painted / (canvas.width * canvas.height);
    });
    expect(inked).toBeGreaterThan(0.05);
    expect(await voice.getByTestId("voice-time").textContent()).toMatch(/^0:00 \/ 0:0\d$/);
    // The transcript is on its way, or already there (the local transcriber takes about a second).
    const transcript = lastMessage(bob).getByTestId("transcript");
    expect(await transcript.textContent()).toMatch(/\S/);

    // It plays: the time advances; then pause.
    await voice.getByTestId("voice-play").click();
    await expect.poll(async () => (await audioState(bob)).time, WAIT).toBeGreaterThan(0.4);
    await voice.getByTestId("voice-play").click();
    await expect.poll(async () => (await audioState(bob)).paused, WAIT).toBe(true);

    // Seek by keyboard: Home, then ten steps of 0.1 s.
    const seek = voice.getByTestId("voice-seek");
    await seek.focus();
    await seek.press("Home");
    for (let i = 0; i < 10; i += 1) await seek.press("ArrowRight");
    await expect.poll(async () => (await audioState(bob)).time, WAIT).toBeCloseTo(1, 1);
    expect(await seek.getAttribute("aria-valuetext")).toMatch(/^0:01 of 0:0\d$/);

    // Speed by keyboard: Enter and Space on the speed button.
    const speed = voice.getByTestId("voice-speed");
    await speed.focus();
    await speed.press("Enter");
    expect(await speed.textContent()).toBe("1.5×");
    await speed.press(" ");
    expect(await speed.textContent()).toBe("2×");
    expect((await audioState(bob)).rate).toBe(2);
    await voice.getByTestId("voice-play").click();
    await expect.poll(async () => (await audioState(bob)).time, WAIT).toBeGreaterThan(1.3);

    // The transcript arrives under it for both, seconds after the release. How many words it
    // gets right is the e2e test's bar (test/e2e/voice-transcription.test.ts, a fixed encoding);
    // a live recording varies, so here one word of the sentence is enough.
    await expect
      .poll(() => transcript.textContent(), { timeout: 60_000 })
      .not.toBe("Transcribing…");
    expect(contentWordsFound(SENTENCE, (await transcript.textContent())!)).toBeGreaterThanOrEqual(
      1,
    );
    await expect
      .poll(() => lastMessage(ada).getByTestId("transcript").textContent(), WAIT)
      .toBe(await transcript.textContent());

    // On the phone: nothing sideways, every control of the voice message 44 px or more.
    expect(await sideways(bob)).toBe(0);
    expect(await smallTargets(voice)).toEqual([]);
    expect(await smallTargets(bob.locator("form.compose"))).toEqual([]);

    // Sliding off the button before letting go cancels: nothing is sent.
    const count = await ada.locator("[data-testid=messages] [data-testid=message]").count();
    await ada.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await ada.mouse.down();
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("true");
    await ada.waitForTimeout(600);
    await ada.mouse.move(box.x - 200, box.y - 200, { steps: 4 });
    await expect.poll(() => mic.getAttribute("aria-label"), WAIT).toMatch(/Release to cancel/);
    await ada.mouse.up();
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("false");
    await ada.waitForTimeout(1_000);
    expect(await ada.locator("[data-testid=messages] [data-testid=message]").count()).toBe(count);

    // By keyboard: a short Space starts a recording that stays on (named for what comes next);
    // Escape cancels it.
    await mic.focus();
    await ada.keyboard.down(" ");
    await ada.keyboard.up(" ");
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("true");
    expect(await mic.getAttribute("aria-label")).toBe("Stop and send the voice message");
    await ada.keyboard.press("Escape");
    await expect.poll(() => mic.getAttribute("aria-pressed"), WAIT).toBe("false");
    expect(await mic.getAttribute("aria-label")).toBe("Record a voice message");
    await ada.waitForTimeout(800);
    expect(await ada.locator("[data-testid=messages] [data-testid=message]").count()).toBe(count);

    mkdirSync(SHOTS, { recursive: true });
    await bob.screenshot({ path: `${SHOTS}/voice-message-phone.png` });
    expect(problems).toEqual([]);
  });

  it("pastes an image and drops a file; the other side previews and downloads them", async () => {
    const ada = contexts[0]!.pages()[0]!;
    const bob = contexts[1]!.pages()[0]!;
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

    // Paste: a ClipboardEvent carrying the PNG as a file, as a copied image does.
    await ada.getByTestId("compose").evaluate(
      (el, bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "red.png", { type: "image/png" }));
        el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
      },
      [...png],
    );
    // Drop: a file dragged onto the room.
    await ada.locator("section.chat").evaluate(
      (el, bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "plan.pdf", { type: "application/pdf" }));
        el.dispatchEvent(
          new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }),
        );
        el.dispatchEvent(
          new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }),
        );
      },
      [...pdf],
    );
    const tray = ada.getByTestId("tray-file");
    await expect.poll(() => tray.count(), WAIT).toBe(2);
    // The image is previewed in the tray from its own bytes.
    await expect
      .poll(
        () =>
          ada.getByTestId("tray-thumb").evaluate((img) => (img as HTMLImageElement).naturalWidth),
        WAIT,
      )
      .toBe(64);
    await ada.getByTestId("compose").fill("the plan, and a red square");
    await ada.getByTestId("compose").press("Enter");
    await expect.poll(async () => (await tray.allTextContents()).join(" | "), WAIT).toBe("");

    const posted = lastMessage(bob);
    await expect
      .poll(() => posted.getByTestId("text").textContent(), WAIT)
      .toBe("the plan, and a red square");
    const preview = posted.getByTestId("image-preview");
    await expect
      .poll(() => preview.evaluate((img) => (img as HTMLImageElement).naturalWidth), WAIT)
      .toBe(64);
    expect(await preview.getAttribute("src")).toMatch(/^blob:/);
    await posted.getByTestId("image-open").click();
    await bob.getByTestId("image-full").waitFor();
    await bob.getByTestId("image-close").click();
    await expect.poll(() => bob.getByTestId("image-full").count(), WAIT).toBe(0);

    const chip = posted.getByTestId("file-chip");
    expect(await chip.textContent()).toMatch(/plan\.pdf.*B/);
    const [download] = await Promise.all([
      bob.waitForEvent("download"),
      chip.getByTestId("file-download").click(),
    ]);
    expect(download.suggestedFilename()).toBe("plan.pdf");
    expect(readFileSync(await download.path())).toEqual(pdf);

    expect(await sideways(bob)).toBe(0);
    expect(await smallTargets(posted.getByTestId("attachments"))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
