import { can, type Standing } from "../client/index.ts";
import { canCompose, reconnecting, type ChatState } from "./chat-state.ts";
import type { BlobUrlOf } from "./attachments/voice-player.ts";
import { Composer, type ComposerActions } from "./composer.ts";
import { h } from "./dom.ts";
import { ephemeralItem, ephemeralKey } from "./ephemeral-item.ts";
import { standing } from "./members-state.ts";
import { MemberPanel, type PanelActions } from "./members.ts";
import { MessageItem, noticeItem, pendingItem, type MessageActions } from "./message-item.ts";
import { MessageList } from "./message-list.ts";
import { TypingIndicator } from "./presence.ts";
import { roomControls, type RoomControlActions } from "./room-controls.ts";

/** What the room's screen asks of the room, beside what it draws. */
export type ScreenActions = {
  message: Omit<
    MessageActions,
    "you" | "mayDeleteAny" | "mayRedactAny" | "quoted" | "attachmentUrl"
  >;
  /** An attachment's bytes as a blob URL, for previews, players and downloads. */
  attachmentUrl: BlobUrlOf;
  panel: PanelActions;
  controls: Omit<RoomControlActions, "currentTopic">;
  /** Your standing in the room changed (the lists or the admin check answered). */
  standing: (you: Standing) => void;
  /** The reader wants older history. */
  older: () => void;
  /** A refused post's line is dismissed. */
  dismiss: (id: number) => void;
  /** An ephemeral answer is dismissed. */
  dismissEphemeral: (id: number) => void;
  send: ComposerActions["send"];
  voice: ComposerActions["voice"];
  typing: () => void;
  /** The reader wants to see the room as it was (history-view.ts). */
  history: () => void;
};

/**
 * The DOM of one room, drawn from its ChatState: the header, banners, the message list with its
 * notices, divider and pending posts, the people panel and the compose box. `render` compares
 * the state before and after an action and touches only what changed.
 */
export class ChatScreen {
  readonly el: HTMLElement;
  readonly list: MessageList;
  readonly composer: Composer;
  readonly typing = new TypingIndicator();
  readonly #topic = h("p", { class: "topic", "data-testid": "topic" });
  readonly #banner = h(
    "div",
    {
      class: "banner",
      role: "status",
      "aria-live": "polite",
      "data-testid": "reconnecting",
      hidden: true,
    },
    "Connection lost. Reconnecting…",
  );
  readonly #fatal = h("div", {
    class: "fatal",
    role: "alert",
    "data-testid": "fatal",
    hidden: true,
  });
  readonly #error = h("p", { class: "error", role: "alert", hidden: true });
  readonly #body: HTMLElement;
  readonly #members: MemberPanel;
  readonly #controls: ReturnType<typeof roomControls>;
  readonly #items = new Map<number, MessageItem>();
  readonly #pending = new Map<number, ReturnType<typeof pendingItem>>();
  readonly #messageActions: MessageActions;
  readonly #dismiss: (id: number) => void;
  readonly #dismissEphemeral: (id: number) => void;
  readonly #standing: (you: Standing) => void;
  #state: ChatState | undefined;

  constructor(room: string, actions: ScreenActions) {
    this.#dismiss = actions.dismiss;
    this.#dismissEphemeral = actions.dismissEphemeral;
    this.#standing = actions.standing;
    this.#messageActions = {
      ...actions.message,
      attachmentUrl: actions.attachmentUrl,
      you: () => this.#state?.members.you,
      mayDeleteAny: () => !!this.#state && can(standing(this.#state.members), "delete_any"),
      mayRedactAny: () => !!this.#state && can(standing(this.#state.members), "redact_any"),
      quoted: (id) => {
        const message = this.#state?.timeline.messages.get(id);
        return message && !message.deleted && !message.redacted
          ? { author: message.author.name, text: message.text }
          : undefined;
      },
    };
    this.#members = new MemberPanel(actions.panel);
    this.#controls = roomControls({
      ...actions.controls,
      currentTopic: () => this.#state?.topic ?? "",
    });
    this.list = new MessageList(actions.older);
    this.composer = new Composer({
      send: actions.send,
      typing: actions.typing,
      voice: actions.voice,
    });
    this.composer.setEnabled(false);
    this.#body = h("div", { class: "chat-body" }, this.list.el, this.#members.el);
    this.el = h(
      "section",
      { class: "chat", "aria-labelledby": "room-title" },
      h(
        "header",
        { class: "chat-head" },
        h("a", { href: "#/", class: "back", "data-testid": "back" }, "← Rooms"),
        h("h2", { id: "room-title" }, `#${room}`),
        this.#topic,
        h(
          "button",
          { type: "button", "data-testid": "history-open", on: { click: () => actions.history() } },
          "History",
        ),
        this.#controls.el,
      ),
      this.#banner,
      this.#fatal,
      this.#error,
      this.#body,
      this.typing.el,
      this.composer.el,
    );
    // Files dropped anywhere on the room join the compose box's tray.
    this.el.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      this.el.classList.add("dropping");
    });
    this.el.addEventListener("dragleave", (event) => {
      if (event.target === this.el) this.el.classList.remove("dropping");
    });
    this.el.addEventListener("drop", (event) => {
      this.el.classList.remove("dropping");
      const files = event.dataTransfer?.files;
      if (!files?.length) return;
      event.preventDefault();
      this.composer.attach(files);
    });
  }

  render(before: ChatState, after: ChatState): void {
    this.#state = after;
    if (after.topic !== before.topic) this.#topic.textContent = after.topic;
    if (after.slowModeSeconds !== before.slowModeSeconds && after.slowModeSeconds !== undefined)
      this.#controls.slowMode(after.slowModeSeconds);
    this.#banner.hidden = !reconnecting(after);
    this.composer.setEnabled(canCompose(after));
    if (after.fatal && after.fatal !== before.fatal) {
      this.#fatal.replaceChildren(
        h("p", {}, after.fatal.prefix, after.fatal.message),
        h("a", { href: "#/", "data-testid": "fatal-back" }, "Back to the room list"),
      );
      this.#fatal.hidden = false;
    }
    this.#error.textContent = after.error ?? "";
    this.#error.hidden = after.error === undefined;

    if (after.generation !== before.generation) {
      this.#items.clear();
      this.list.clear();
    }
    if (after.timeline !== before.timeline) this.#renderMessages(after);
    if (after.notices !== before.notices)
      for (const { seq, at, text } of after.notices.values())
        if (!this.list.has(seq)) this.list.put(seq, noticeItem(seq, at, text));
    if (after.members !== before.members) this.#renderMembers(before, after);
    if (after.dividerAt !== undefined && after.dividerAt !== this.list.dividerAt)
      this.list.markUnread(after.dividerAt);
    if (after.pending !== before.pending) this.#renderPending(after);
    if (after.ephemerals !== before.ephemerals) this.#renderEphemerals(before, after);
    if (after.history !== before.history) this.list.setHistoryState(after.history);
  }

  /** Brings the people panel into view and focus (for moderating from the dashboard). */
  focusPeople(): void {
    const panel = this.#members.el;
    panel.tabIndex = -1;
    panel.setAttribute("data-focused", "true");
    panel.focus();
    panel.scrollIntoView({ block: "nearest" });
  }

  /**
   * Shows `panel` (the room as it was, read only, or its Integrations) in place of the live
   * room, or the live room again without one. The live room goes on receiving meanwhile, out of
   * sight.
   */
  showInstead(panel: HTMLElement | undefined): void {
    const live = panel === undefined;
    this.#body.hidden = !live;
    this.typing.el.hidden = !live;
    this.composer.el.hidden = !live;
    if (panel && !panel.isConnected) this.#body.after(panel);
  }

  dispose(): void {
    this.composer.dispose();
    this.typing.dispose();
    this.#members.dispose();
  }

  #renderMessages(after: ChatState): void {
    for (const [id, message] of after.timeline.messages) {
      const item = this.#items.get(id);
      if (item) {
        if (item.message !== message) item.update(message);
        continue;
      }
      const created = new MessageItem(message, this.#messageActions);
      this.#items.set(id, created);
      this.list.put(id, created.el);
    }
  }

  #renderMembers(before: ChatState, after: ChatState): void {
    this.#members.render(after.members);
    const was = standing(before.members);
    const now = standing(after.members);
    if (now.role !== was.role || now.admin !== was.admin) {
      this.#controls.setStanding(now);
      this.#standing(now);
    }
    // Your id and your say decide the buttons of every message.
    if (
      after.members.you !== before.members.you ||
      can(now, "delete_any") !== can(was, "delete_any")
    )
      for (const item of this.#items.values()) item.render();
  }

  #renderEphemerals(before: ChatState, after: ChatState): void {
    const kept = new Set(after.ephemerals);
    for (const gone of before.ephemerals) if (!kept.has(gone)) this.list.remove(ephemeralKey(gone));
    for (const ephemeral of after.ephemerals) {
      const key = ephemeralKey(ephemeral);
      if (!this.list.has(key))
        this.list.put(
          key,
          ephemeralItem(ephemeral, () => this.#dismissEphemeral(ephemeral.id)),
        );
    }
  }

  #renderPending(after: ChatState): void {
    const ids = new Set(after.pending.map((post) => post.id));
    for (const [id, line] of this.#pending)
      if (!ids.has(id)) {
        line.el.remove();
        this.#pending.delete(id);
      }
    for (const post of after.pending) {
      let line = this.#pending.get(post.id);
      if (!line) {
        line = pendingItem(post.text, () => this.#dismiss(post.id), post.files ?? 0);
        this.#pending.set(post.id, line);
        this.list.addPending(line.el);
      }
      if (post.error !== undefined) line.fail(post.error);
    }
  }
}
