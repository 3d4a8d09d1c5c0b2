import { AttachmentsBlock } from "./attachments/attachment-view.ts";
import type { BlobUrlOf } from "./attachments/voice-player.ts";
import { h, replace, time } from "./dom.ts";
import { serviceBadge } from "./service-badge.ts";
import type { MessageModel } from "./timeline.ts";

export const EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢"] as const;

/** What a message item may ask of the room; each returns the command's promise. */
export type MessageActions = {
  you: () => string | undefined;
  edit: (id: number, text: string) => Promise<unknown>;
  remove: (id: number) => Promise<unknown>;
  /** Whether you may delete other people's messages (the `delete_any` permission). */
  mayDeleteAny: () => boolean;
  /** Empty a message's text for good. */
  redact: (id: number) => Promise<unknown>;
  /** Whether you may redact other people's messages (the `redact_any` permission). */
  mayRedactAny: () => boolean;
  react: (id: number, emoji: string, on: boolean) => Promise<unknown>;
  /** The message replied to, when it is loaded: its author and text, for the reply's quote. */
  quoted: (id: number) => { author: string; text: string } | undefined;
  /** An attachment's bytes as a blob URL (fetched with the token). */
  attachmentUrl: BlobUrlOf;
};

/** One message in the list: author, time, text, reactions, and edit/delete for its author. */
export class MessageItem {
  readonly el: HTMLLIElement;
  #message: MessageModel;
  readonly #actions: MessageActions;
  #editor: HTMLFormElement | undefined;
  #pickerOpen = false;
  /** Redaction cannot be undone: the first click asks, the second redacts. */
  #confirmRedact = false;
  #error = h("p", { class: "item-error", role: "alert", hidden: true });
  /** Built on the first attachment, kept across redraws (a voice message plays on). */
  #attachments: AttachmentsBlock | undefined;

  constructor(message: MessageModel, actions: MessageActions) {
    this.#message = message;
    this.#actions = actions;
    this.el = h("li", { class: "message", "data-testid": "message", "data-id": message.id });
    this.render();
  }

  /** The model last drawn: a new one means the message changed. */
  get message(): MessageModel {
    return this.#message;
  }

  update(message: MessageModel): void {
    this.#message = message;
    if (message.deleted) this.#editor = undefined;
    this.render();
  }

  render(): void {
    const m = this.#message;
    const mine = m.author.id === this.#actions.you();
    this.el.classList.toggle("mine", mine);
    this.el.classList.toggle("deleted", m.deleted);
    this.el.classList.toggle("redacted", m.redacted);
    const head = h(
      "div",
      { class: "meta" },
      h("span", { class: "author", "data-testid": "author" }, m.author.name),
      serviceBadge(m.author.id),
      " ",
      time(m.at),
      m.editedAt !== undefined && !m.deleted ? h("span", { class: "edited" }, " (edited)") : null,
    );
    const files = m.deleted || m.redacted ? [] : (m.attachments ?? []);
    const body = m.redacted
      ? h("p", { class: "text", "data-testid": "text" }, "message redacted")
      : m.deleted
        ? h("p", { class: "text", "data-testid": "text" }, "message deleted")
        : (this.#editor ??
          // A post of files alone has no text to show.
          (m.text === "" && files.length
            ? null
            : h("p", { class: "text", "data-testid": "text" }, m.text)));
    if (files.length) this.#attachments ??= new AttachmentsBlock(this.#actions.attachmentUrl);
    replace(
      this.el,
      head,
      m.replyTo === undefined ? null : this.#quote(m.replyTo),
      body,
      files.length ? this.#attachments!.update(files) : null,
      m.deleted || m.redacted ? null : this.#reactions(),
      this.#editor ? null : this.#menu(mine),
      this.#error,
    );
  }

  /** A reply's first line: who and what it answers (a rule's reply in a thread, say). */
  #quote(id: number): HTMLElement {
    const quoted = this.#actions.quoted(id);
    const text = quoted
      ? `${quoted.author}: ${[...quoted.text].slice(0, 80).join("")}`
      : "a message";
    return h(
      "p",
      { class: "reply-to hint", "data-testid": "reply-to", "data-reply-to": id },
      `↪ In reply to ${text}`,
    );
  }

  #reactions(): HTMLElement {
    const you = this.#actions.you();
    const bar = h("div", { class: "reactions" });
    for (const [emoji, users] of this.#message.reactions) {
      if (users.size === 0) continue;
      const on = you !== undefined && users.has(you);
      bar.append(
        h(
          "button",
          {
            type: "button",
            class: "reaction",
            "data-testid": "reaction",
            "data-emoji": emoji,
            "aria-pressed": String(on),
            "aria-label": `${emoji} ${users.size}${on ? ", remove yours" : ", add yours"}`,
            on: { click: () => this.#react(emoji, !on) },
          },
          `${emoji} ${users.size}`,
        ),
      );
    }
    // The picker stays open across re-renders (someone else's reaction must not close it).
    const picker = h(
      "details",
      { class: "picker", open: this.#pickerOpen },
      h("summary", { "aria-label": "Add a reaction", "data-testid": "react" }, "☺+"),
    );
    picker.addEventListener("toggle", () => (this.#pickerOpen = picker.open));
    const choices = h("div", { class: "choices" });
    for (const emoji of EMOJI) {
      const on = you !== undefined && (this.#message.reactions.get(emoji)?.has(you) ?? false);
      choices.append(
        h(
          "button",
          {
            type: "button",
            "data-testid": "react-choice",
            "data-emoji": emoji,
            "aria-pressed": String(on),
            on: {
              click: () => {
                this.#pickerOpen = picker.open = false;
                this.#react(emoji, !on);
              },
            },
          },
          emoji,
        ),
      );
    }
    picker.append(choices);
    bar.append(picker);
    return bar;
  }

  /** The message's menu: edit for its author, delete and redact for whoever may. */
  #menu(mine: boolean): HTMLElement | null {
    const m = this.#message;
    if (m.redacted) return null;
    const whose = mine ? "" : `${m.author.name}'s `;
    const buttons = [
      mine && !m.deleted
        ? h(
            "button",
            { type: "button", "data-testid": "edit", on: { click: () => this.#startEdit() } },
            "Edit",
          )
        : null,
      (mine || this.#actions.mayDeleteAny()) && !m.deleted
        ? h(
            "button",
            {
              type: "button",
              "data-testid": "delete",
              ...(mine ? {} : { "aria-label": `Delete ${whose}message` }),
              on: { click: () => this.#run(this.#actions.remove(m.id)) },
            },
            "Delete",
          )
        : null,
      mine || this.#actions.mayRedactAny() ? this.#redactButton(whose) : null,
    ].filter((b) => b !== null);
    return buttons.length ? h("div", { class: "actions" }, ...buttons) : null;
  }

  #redactButton(whose: string): HTMLElement {
    const confirming = this.#confirmRedact;
    return h(
      "button",
      {
        type: "button",
        ...(confirming ? { class: "danger" } : {}),
        "data-testid": "redact",
        "aria-label": confirming ? "Redact for good: click again" : `Redact ${whose}message`,
        on: {
          click: () => {
            if (!this.#confirmRedact) {
              this.#confirmRedact = true;
              return this.render();
            }
            this.#confirmRedact = false;
            this.#run(this.#actions.redact(this.#message.id));
          },
        },
      },
      confirming ? "Redact for good?" : "Redact",
    );
  }

  #startEdit(): void {
    const input = h("textarea", {
      class: "edit-text",
      "data-testid": "edit-text",
      "aria-label": "Edit message",
      rows: 2,
      required: true,
    });
    input.value = this.#message.text;
    const cancel = () => {
      this.#editor = undefined;
      this.render();
    };
    const form = h(
      "form",
      {
        class: "editor",
        on: {
          submit: (event) => {
            event.preventDefault();
            const text = input.value;
            if (!text.trim()) return;
            if (text !== this.#message.text) this.#run(this.#actions.edit(this.#message.id, text));
            cancel();
          },
        },
      },
      input,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", "data-testid": "save" }, "Save"),
        h("button", { type: "button", on: { click: cancel } }, "Cancel"),
      ),
    );
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    this.#editor = form;
    this.render();
    input.focus();
  }

  #react(emoji: string, on: boolean): void {
    this.#run(this.#actions.react(this.#message.id, emoji, on));
  }

  #run(command: Promise<unknown>): void {
    this.#error.hidden = true;
    command.catch((error: unknown) => {
      this.#error.textContent = error instanceof Error ? error.message : String(error);
      this.#error.hidden = false;
    });
  }
}

/** A line for a join or leave. */
export function noticeItem(seq: number, at: number, text: string): HTMLLIElement {
  return h(
    "li",
    { class: "notice", "data-testid": "notice", "data-seq": seq },
    text,
    " ",
    time(at),
  );
}

/** A post not yet acked: "sending…", then why it was not sent and a button to dismiss it. */
export function pendingItem(text: string, dismiss: () => void, files = 0) {
  const status = h("span", { class: "status" }, "sending…");
  const el = h(
    "li",
    { class: "message mine pending", "data-testid": "pending" },
    text ? h("p", { class: "text" }, text) : null,
    files ? h("p", { class: "hint" }, files === 1 ? "1 file" : `${files} files`) : null,
    status,
  );
  let failed = false;
  return {
    el,
    fail(reason: string): void {
      if (failed) return;
      failed = true;
      el.classList.add("failed");
      status.replaceWith(
        h("span", { class: "item-error", role: "alert" }, `Not sent: ${reason} `),
        h("button", { type: "button", on: { click: dismiss } }, "Dismiss"),
      );
    },
  };
}
