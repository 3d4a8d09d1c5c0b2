import { LIMITS_ATTACHMENTS, type AttachmentKind } from "../../client/index.ts";
import { h, replace } from "../dom.ts";
import { formatBytes, kindOfFile, sizeProblem } from "./media-rules.ts";

/** A file waiting in the composer: uploaded when the message is sent, once. */
export type TrayFile = {
  readonly key: number;
  readonly file: File;
  readonly kind: Exclude<AttachmentKind, "voice">;
  /** Bytes the server holds so far. */
  sent: number;
  /** The attachment's id once uploaded: a second send does not upload it again. */
  attachmentId?: string;
  /** Why it cannot go (too large, refused by the server): shown on its line. */
  error?: string;
};

/**
 * The files attached to the message being written (docs/attachments.md, "In the UI"): a line
 * each with a preview for images (a blob URL of the file itself), its name and size, its
 * progress while uploading, what went wrong, and a button to remove it.
 */
export class AttachmentTray {
  readonly el = h("ul", {
    class: "tray",
    "data-testid": "tray",
    "aria-label": "Files to send",
    hidden: true,
  });
  readonly #files: TrayFile[] = [];
  readonly #previews = new Map<number, string>();
  readonly #changed: () => void;
  #keys = 0;

  /** `changed` runs when files are added or removed (the composer enables Send). */
  constructor(changed: () => void) {
    this.#changed = changed;
  }

  get files(): readonly TrayFile[] {
    return this.#files;
  }

  /** Adds files, each checked against its kind's size; past 10 files the rest are refused. */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const kind = kindOfFile(file);
      const entry: TrayFile = { key: ++this.#keys, file, kind, sent: 0 };
      if (this.#files.length >= LIMITS_ATTACHMENTS.perMessage)
        entry.error = `A message carries at most ${LIMITS_ATTACHMENTS.perMessage} files.`;
      else {
        const problem = sizeProblem(kind, file.size);
        if (problem) entry.error = problem;
      }
      if (kind === "image" && !entry.error)
        this.#previews.set(entry.key, URL.createObjectURL(file));
      this.#files.push(entry);
    }
    this.render();
    this.#changed();
  }

  remove(key: number): void {
    const index = this.#files.findIndex((f) => f.key === key);
    if (index < 0) return;
    this.#files.splice(index, 1);
    this.#revoke(key);
    this.render();
    this.#changed();
  }

  /** Empties the tray once its message is posted. */
  clear(): void {
    for (const file of this.#files) this.#revoke(file.key);
    this.#files.length = 0;
    this.render();
    this.#changed();
  }

  render(): void {
    this.el.hidden = this.#files.length === 0;
    replace(this.el, ...this.#files.map((file) => this.#line(file)));
  }

  dispose(): void {
    for (const url of this.#previews.values()) URL.revokeObjectURL(url);
    this.#previews.clear();
  }

  #line(entry: TrayFile): HTMLLIElement {
    const { file } = entry;
    const preview = this.#previews.get(entry.key);
    const uploading = entry.attachmentId === undefined && entry.sent > 0 && !entry.error;
    return h(
      "li",
      {
        class: entry.error ? "tray-file failed" : "tray-file",
        "data-testid": "tray-file",
        "data-kind": entry.kind,
      },
      preview
        ? h("img", { class: "thumb", src: preview, alt: "", "data-testid": "tray-thumb" })
        : h("span", { class: "thumb file-icon", "aria-hidden": "true" }, "📄"),
      h(
        "span",
        { class: "tray-text" },
        h("span", { class: "file-name" }, file.name || "pasted file"),
        h("span", { class: "hint" }, formatBytes(file.size)),
        entry.attachmentId !== undefined
          ? h("span", { class: "hint", "data-testid": "tray-done" }, "uploaded")
          : uploading
            ? h("progress", {
                max: file.size,
                value: entry.sent,
                "data-testid": "tray-progress",
                "aria-label": `Uploading ${file.name}`,
              })
            : null,
        entry.error
          ? h(
              "span",
              { class: "item-error", role: "alert", "data-testid": "tray-error" },
              entry.error,
            )
          : null,
      ),
      h(
        "button",
        {
          type: "button",
          class: "tray-remove",
          "data-testid": "tray-remove",
          "aria-label": `Remove ${file.name || "the file"}`,
          on: { click: () => this.remove(entry.key) },
        },
        "✕",
      ),
    );
  }

  #revoke(key: number): void {
    const url = this.#previews.get(key);
    if (url) URL.revokeObjectURL(url);
    this.#previews.delete(key);
  }
}
