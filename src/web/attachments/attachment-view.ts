import type { Attachment } from "../../client/index.ts";
import { h, replace } from "../dom.ts";
import { formatBytes } from "./media-rules.ts";
import { transcriptLine, type TranscribedAttachment } from "./transcript.ts";
import { VoicePlayer, type BlobUrlOf } from "./voice-player.ts";

/**
 * A message's attachments (docs/attachments.md, "In the UI"): a voice player with its transcript
 * under it, image previews that open full size, and file chips with a download button. Each
 * part is built once per attachment and kept across the message's redraws, so that a reaction
 * or a transcript arriving does not stop a voice message playing.
 */
export class AttachmentsBlock {
  readonly el = h("div", { class: "attachments", "data-testid": "attachments" });
  readonly #parts = new Map<string, { el: HTMLElement; transcript?: HTMLElement }>();
  readonly #urlOf: BlobUrlOf;

  constructor(urlOf: BlobUrlOf) {
    this.#urlOf = urlOf;
  }

  update(attachments: readonly TranscribedAttachment[]): HTMLElement {
    const ids = new Set(attachments.map((a) => a.id));
    for (const id of this.#parts.keys()) if (!ids.has(id)) this.#parts.delete(id);
    for (const attachment of attachments) {
      let part = this.#parts.get(attachment.id);
      if (!part) {
        part = this.#build(attachment);
        this.#parts.set(attachment.id, part);
      }
      if (part.transcript) {
        const line = transcriptLine(attachment);
        part.transcript.textContent = line.text;
        part.transcript.dataset.state = line.state;
      }
    }
    replace(this.el, ...attachments.map((a) => this.#parts.get(a.id)!.el));
    return this.el;
  }

  #build(attachment: Attachment): { el: HTMLElement; transcript?: HTMLElement } {
    switch (attachment.kind) {
      case "voice": {
        const transcript = h("p", {
          class: "transcript",
          "data-testid": "transcript",
          "aria-live": "polite",
        });
        const player = new VoicePlayer(attachment, this.#urlOf);
        return { el: h("div", { class: "voice-message" }, player.el, transcript), transcript };
      }
      case "image":
        return { el: this.#image(attachment) };
      case "file":
        return { el: this.#file(attachment) };
    }
  }

  #image(attachment: Attachment): HTMLElement {
    const img = h("img", { alt: attachment.name, "data-testid": "image-preview" });
    const button = h(
      "button",
      {
        type: "button",
        class: "image-open",
        "data-testid": "image-open",
        "aria-label": `Open ${attachment.name} full size`,
        on: { click: () => void this.#openFull(attachment) },
      },
      img,
    );
    this.#urlOf(attachment.id).then(
      (url) => (img.src = url),
      () => button.replaceWith(this.#file(attachment)),
    );
    return h("figure", { class: "image-attachment" }, button);
  }

  /** The image at full size in a modal dialog; Escape or Close closes it. */
  async #openFull(attachment: Attachment): Promise<void> {
    const url = await this.#urlOf(attachment.id);
    const close = h("button", { type: "button", "data-testid": "image-close" }, "Close");
    const dialog = h(
      "dialog",
      { class: "image-full", "data-testid": "image-full", "aria-label": attachment.name },
      h("img", { src: url, alt: attachment.name }),
      close,
    );
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    close.focus();
  }

  #file(attachment: Attachment): HTMLElement {
    const error = h("span", { class: "item-error", role: "alert", hidden: true });
    return h(
      "div",
      { class: "file-chip", "data-testid": "file-chip" },
      h("span", { "aria-hidden": "true" }, "📄"),
      h("span", { class: "file-name" }, attachment.name),
      h("span", { class: "hint" }, formatBytes(attachment.size)),
      h(
        "button",
        {
          type: "button",
          "data-testid": "file-download",
          "aria-label": `Download ${attachment.name}`,
          on: {
            click: () => {
              error.hidden = true;
              this.#urlOf(attachment.id).then(
                (url) => saveAs(url, attachment.name),
                (failure: unknown) => {
                  error.textContent = `Cannot download: ${failure instanceof Error ? failure.message : String(failure)}`;
                  error.hidden = false;
                },
              );
            },
          },
        },
        "Download",
      ),
      error,
    );
  }
}

/** Saves a blob URL under `name` through a link's `download`. */
function saveAs(url: string, name: string): void {
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
}
