import type { Member, Message, Moment, RoomStateAt } from "../client/index.ts";
import { errorText, type AppContext } from "./context.ts";
import { h, replace, time } from "./dom.ts";
import { serviceBadge } from "./service-badge.ts";

const PAGE = 50;

/** What the history panel asks of the room's screen. */
export type HistoryActions = {
  /** The room's last seq now: the slider's end. */
  lastSeq: () => number;
  /** Back to the live room. */
  close: () => void;
};

/**
 * The room as it was at a past moment, read-only (time travel, docs/audit.md): a slider over
 * the room's events and a date and time; the topic, the members with their roles and the
 * messages with the text they had then, under a banner that says which moment it is.
 */
export class HistoryView {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #room: string;
  readonly #actions: HistoryActions;
  readonly #slider = h("input", {
    type: "range",
    min: 1,
    step: 1,
    "data-testid": "history-slider",
    "aria-label": "Event number",
  });
  readonly #when = h("input", {
    type: "datetime-local",
    step: 1,
    "data-testid": "history-time",
    "aria-label": "Date and time",
  });
  readonly #banner = h("p", {
    class: "history-banner",
    role: "status",
    "data-testid": "history-banner",
  });
  readonly #error = h("p", { class: "error", role: "alert", hidden: true });
  readonly #topic = h("p", { class: "topic", "data-testid": "history-topic" });
  readonly #members = h("ul", { class: "history-members", "data-testid": "history-members" });
  readonly #messages = h("ol", { class: "messages", "data-testid": "history-messages" });
  readonly #older = h(
    "button",
    { type: "button", "data-testid": "history-older", hidden: true },
    "Older messages",
  );
  /** The moment shown and where its messages' paging stands; a newer load wins over a slower one. */
  #shown: { seq: number; nextBefore: number | null } | undefined;
  #loads = 0;

  constructor(ctx: AppContext, room: string, actions: HistoryActions) {
    this.#ctx = ctx;
    this.#room = room;
    this.#actions = actions;
    this.#slider.addEventListener("change", () => this.show({ at: Number(this.#slider.value) }));
    this.#when.addEventListener("change", () => {
      const atTime = new Date(this.#when.value).getTime();
      if (Number.isFinite(atTime)) this.show({ atTime });
    });
    this.#older.addEventListener("click", () => void this.#more());
    this.el = h(
      "section",
      { class: "history", "data-testid": "history", hidden: true },
      h(
        "div",
        { class: "history-head" },
        this.#banner,
        h(
          "button",
          { type: "button", "data-testid": "history-live", on: { click: () => actions.close() } },
          "Back to live",
        ),
      ),
      h(
        "div",
        { class: "history-controls row" },
        h("label", {}, "Event ", this.#slider),
        h("label", {}, "or time ", this.#when),
      ),
      this.#error,
      this.#topic,
      h(
        "div",
        { class: "history-body" },
        h("div", { class: "history-timeline" }, this.#messages, this.#older),
        h("aside", { class: "history-people" }, h("h3", {}, "Members then"), this.#members),
      ),
    );
  }

  /** Opens at the room's last event. */
  open(): void {
    const last = Math.max(1, this.#actions.lastSeq());
    this.#slider.max = String(last);
    this.#slider.value = String(last);
    this.el.hidden = false;
    this.show({ at: last });
  }

  hide(): void {
    this.el.hidden = true;
  }

  /** Loads and draws the room at `moment`. */
  show(moment: Moment): void {
    const load = ++this.#loads;
    this.#ctx
      .call((api) => api.stateAt(this.#room, moment, { limit: PAGE }))
      .then(
        (state) => load === this.#loads && this.#draw(state),
        (error: unknown) => load === this.#loads && this.#fail(error),
      );
  }

  #draw(state: RoomStateAt): void {
    this.#error.hidden = true;
    this.#shown = { seq: state.seq, nextBefore: state.nextBefore };
    this.#slider.value = String(state.seq);
    this.#when.value = localInputValue(state.at);
    this.#banner.textContent = `Viewing the room as it was at ${new Date(state.at).toLocaleString()} (event ${state.seq} of ${this.#slider.max}). Read only.`;
    this.#topic.textContent = state.room.topic;
    replace(this.#members, ...state.members.map(memberLine));
    // Oldest first, as in the live list.
    replace(this.#messages, ...state.messages.toReversed().map(messageLine));
    this.#older.hidden = state.nextBefore === null;
  }

  async #more(): Promise<void> {
    const shown = this.#shown;
    if (!shown || shown.nextBefore === null) return;
    const before = shown.nextBefore;
    try {
      const page = await this.#ctx.call((api) =>
        api.stateAt(this.#room, { at: shown.seq }, { before, limit: PAGE }),
      );
      if (this.#shown !== shown) return;
      shown.nextBefore = page.nextBefore;
      this.#messages.prepend(...page.messages.toReversed().map(messageLine));
      this.#older.hidden = page.nextBefore === null;
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#error.textContent = errorText(error);
    this.#error.hidden = false;
  }
}

function memberLine(member: Member): HTMLLIElement {
  return h(
    "li",
    { "data-testid": "history-member" },
    h("span", { class: "member-name" }, member.name),
    " ",
    h("span", { class: "role" }, member.role),
    member.mutedUntil !== undefined ? h("span", { class: "hint" }, " (muted)") : null,
  );
}

/** A message as it was, drawn like the live list's items, without their buttons. */
function messageLine(m: Message): HTMLLIElement {
  const gone = m.redacted ? "message redacted" : m.deleted ? "message deleted" : undefined;
  const reactions = Object.entries(m.reactions).filter(([, users]) => users.length > 0);
  return h(
    "li",
    {
      class: `message${gone ? " deleted" : ""}`,
      "data-testid": "history-message",
      "data-id": m.id,
    },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, m.author.name),
      serviceBadge(m.author.id),
      " ",
      time(m.at),
      m.editedAt !== undefined && !gone ? h("span", { class: "edited" }, " (edited)") : null,
    ),
    h("p", { class: "text", "data-testid": "history-text" }, gone ?? m.text),
    reactions.length > 0 && !gone
      ? h(
          "div",
          { class: "reactions" },
          ...reactions.map(([emoji, users]) =>
            h("span", { class: "reaction" }, `${emoji} ${users.length}`),
          ),
        )
      : null,
  );
}

/** A time as a datetime-local input's value (local time, to the second). */
function localInputValue(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
