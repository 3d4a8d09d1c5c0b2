import { isSlashCommand } from "../client/index.ts";
import { AttachmentTray, type TrayFile } from "./attachments/attachment-tray.ts";
import { MicButton } from "./attachments/mic-button.ts";
import type { Recording } from "./attachments/voice-recorder.ts";
import { h } from "./dom.ts";
import { SlashMenu } from "./slash-menu.ts";

const TYPING_EVERY_MS = 2_000;

/** What the compose box asks of the room. */
export type ComposerActions = {
  /** Text, files from the tray, or both (docs/attachments.md, "In the UI"). */
  send: (text: string, files: readonly TrayFile[]) => void;
  typing: () => void;
  /** A voice message was recorded: upload and post it. */
  voice: (recording: Recording) => void;
};

/**
 * The compose box: Enter sends, Shift+Enter starts a new line; typing is signalled at most every
 * 2 s; text starting with `/` offers slash commands (slash-menu.ts). Files are attached with the
 * Attach button, pasted, or dropped on the room (the screen hands them to `attach`), and wait in
 * a tray until sent with the text; the microphone records a voice message (mic-button.ts).
 */
export class Composer {
  readonly el: HTMLFormElement;
  readonly input = h("textarea", {
    id: "compose",
    name: "text",
    rows: 2,
    "data-testid": "compose",
    placeholder: "Write a message",
    autocomplete: "off",
  });
  readonly #button = h("button", { type: "submit", "data-testid": "send" }, "Send");
  readonly #files = h("input", {
    type: "file",
    multiple: true,
    hidden: true,
    "data-testid": "attach-input",
  });
  readonly #attach = h(
    "button",
    {
      type: "button",
      class: "attach",
      "data-testid": "attach",
      "aria-label": "Attach files",
      title: "Attach files (or paste them, or drop them on the room)",
    },
    "📎",
  );
  readonly #notice = h("p", {
    class: "item-error compose-error",
    role: "alert",
    "data-testid": "compose-error",
    hidden: true,
  });
  readonly slash = new SlashMenu(this.input);
  readonly tray = new AttachmentTray(() => this.#hideNotice());
  readonly mic: MicButton;
  #typedAt = 0;

  constructor(actions: ComposerActions) {
    const { send, typing } = actions;
    this.mic = new MicButton(
      (recording) => actions.voice(recording),
      (message) => this.showNotice(message),
    );
    this.el = h(
      "form",
      {
        class: "compose",
        on: {
          submit: (event) => {
            event.preventDefault();
            const text = this.input.value;
            // A copy: the tray changes as the files are sent.
            const files = [...this.tray.files];
            if (!text.trim() && files.length === 0) return;
            if (files.some((file) => file.error))
              return this.showNotice("Remove the files that cannot be sent first.");
            this.input.value = "";
            this.slash.update();
            send(text, files);
          },
        },
      },
      h("label", { for: "compose", class: "visually-hidden" }, "Message"),
      h("div", { class: "compose-box" }, this.slash.el, this.tray.el, this.input, this.#notice),
      h("div", { class: "compose-tools" }, this.#attach, this.mic.el, this.#button),
      this.#files,
    );
    this.#attach.addEventListener("click", () => this.#files.click());
    this.#files.addEventListener("change", () => {
      if (this.#files.files) this.attach(this.#files.files);
      this.#files.value = "";
    });
    this.input.addEventListener("paste", (event) => {
      const files = event.clipboardData?.files;
      if (!files?.length) return;
      // Pasted files (an image copied from elsewhere) join the tray instead of their names as text.
      event.preventDefault();
      this.attach(files);
    });
    this.input.addEventListener("keydown", (event) => {
      if (this.slash.handleKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.el.requestSubmit();
      }
    });
    this.input.addEventListener("input", () => {
      this.slash.update();
      const now = Date.now();
      // A command being typed is nobody else's business.
      const value = this.input.value;
      if (now - this.#typedAt < TYPING_EVERY_MS || !value || isSlashCommand(value)) return;
      this.#typedAt = now;
      typing();
    });
  }

  /** Files pasted, picked or dropped on the room: to the tray. */
  attach(files: Iterable<File>): void {
    if (this.#files.disabled) return;
    this.tray.add(files);
  }

  /** Off until the room is found, and for good after a fatal close. */
  setEnabled(enabled: boolean): void {
    this.input.disabled = !enabled;
    this.#button.disabled = !enabled;
    this.#attach.disabled = !enabled;
    this.#files.disabled = !enabled;
    this.mic.setEnabled(enabled);
  }

  /** A problem with a recording or the files, above the compose box until the next change. */
  showNotice(message: string): void {
    this.#notice.textContent = message;
    this.#notice.hidden = false;
  }

  #hideNotice(): void {
    this.#notice.hidden = true;
  }

  dispose(): void {
    void this.mic.cancel();
    this.tray.dispose();
  }
}
