import type { Role } from "../../client/index.ts";
import { h, replace } from "../dom.ts";
import { MUTE_CHOICES } from "./automation-rules.ts";
import { choiceSelect, labelled, problemSlot, textInput, type Choice } from "./form-parts.ts";
import { ACTION_KINDS, emptyAction, type ActionDraft, type ActionKind } from "./rule-draft.ts";

/** What the builder offers to pick from: lists as loaded, or why there is none. */
export type Picks = {
  webhooks: readonly Choice[] | string;
  commands: readonly Choice[] | string;
};

/** What a row asks of the builder. */
export type RowActions = {
  move(from: number, to: number): void;
  remove(index: number): void;
  /** The current picks (they load after the form opens). */
  picks(): Picks | undefined;
};

const ROLES: Choice[] = [
  { value: "moderator", label: "Moderators (and the owner)" },
  { value: "owner", label: "The owner" },
  { value: "member", label: "Every member" },
];

const TEMPLATE_HINT =
  "{user} is who set the rule off, {text} their message, {room} the room's name.";

/**
 * One action of the rule builder (rule-builder.ts): its kind, the fields of that kind, and Move
 * up, Move down, Remove. Its fields write into `action` as they are typed; a new kind draws the
 * row's fields again, keeping the focus on the kind.
 */
export class ActionRow {
  readonly el: HTMLLIElement;
  readonly problem: ReturnType<typeof problemSlot>;
  action: ActionDraft;
  readonly #prefix: string;
  readonly #fields = h("div", { class: "action-fields" });
  readonly #kind: HTMLSelectElement;
  readonly #actions: RowActions;

  constructor(
    prefix: string,
    index: number,
    count: number,
    action: ActionDraft,
    actions: RowActions,
  ) {
    this.action = action;
    this.#actions = actions;
    this.#prefix = `${prefix}-action-${index}`;
    const errorId = `${this.#prefix}-error`;
    this.problem = problemSlot(errorId, "action-error");
    this.#kind = choiceSelect(
      [`${this.#prefix}-kind`, "action-kind"],
      ACTION_KINDS.map(([value, label]) => ({ value, label })),
      action.do,
      (kind) => this.#setKind(kind as ActionKind),
    );
    const label = `Action ${index + 1}`;
    this.el = h(
      "li",
      { class: "action-row", "data-testid": "rule-action", "data-index": index },
      h(
        "fieldset",
        { "aria-describedby": errorId },
        h("legend", {}, label),
        labelled(this.#kind.id, "Do", this.#kind),
        this.#fields,
        this.problem.el,
        h(
          "div",
          { class: "row action-buttons" },
          this.#button("action-up", "Move up", `Move ${label} up`, index === 0, () =>
            actions.move(index, index - 1),
          ),
          this.#button("action-down", "Move down", `Move ${label} down`, index === count - 1, () =>
            actions.move(index, index + 1),
          ),
          this.#button("action-remove", "Remove", `Remove ${label}`, count === 1, () =>
            actions.remove(index),
          ),
        ),
      ),
    );
    this.#drawFields();
  }

  /** Puts the focus on one of the row's buttons (after a move), or its kind. */
  focus(which: "action-up" | "action-down" | "action-kind" = "action-kind"): void {
    const target = this.el.querySelector<HTMLElement>(`[data-testid=${which}]`);
    (target && !(target as HTMLButtonElement).disabled ? target : this.#kind).focus();
  }

  /** The first control to fix a problem in. */
  focusProblem(): void {
    (this.#fields.querySelector<HTMLElement>("input, select, textarea") ?? this.#kind).focus();
  }

  /** The picks arrived: the fields that use them are drawn again. */
  refreshPicks(): void {
    if (this.action.do === "webhook" || this.action.do === "plugin") this.#drawFields();
  }

  #button(testid: string, text: string, label: string, disabled: boolean, run: () => void) {
    return h(
      "button",
      { type: "button", "data-testid": testid, "aria-label": label, disabled, on: { click: run } },
      text,
    );
  }

  #setKind(kind: ActionKind): void {
    // What was typed stays where the new kind has the same field (a post's text, a reply's).
    this.action = { ...emptyAction(kind), text: this.action.text, emoji: this.action.emoji };
    this.#drawFields();
    this.problem.say(undefined);
  }

  #drawFields(): void {
    const a = this.action;
    const id = (name: string) => `${this.#prefix}-${name}`;
    const text = (label: string) => {
      const area = h("textarea", {
        id: id("text"),
        rows: 2,
        "data-testid": "action-text",
        "aria-describedby": `${id("text")}-hint`,
        on: { input: (event) => (a.text = (event.target as HTMLTextAreaElement).value) },
      });
      area.value = a.text;
      return labelled(area.id, label, area, TEMPLATE_HINT);
    };
    const parts: HTMLElement[] = [];
    switch (a.do) {
      case "post":
        parts.push(text("Message"));
        break;
      case "reply":
        parts.push(text("Reply, in the message's thread"));
        break;
      case "react": {
        const emoji = textInput([id("emoji"), "action-emoji"], a.emoji, (v) => (a.emoji = v), {
          placeholder: "👀",
          maxlength: 64,
        });
        parts.push(labelled(emoji.id, "Emoji, on the message", emoji));
        break;
      }
      case "notify": {
        const role = choiceSelect([id("role"), "action-role"], ROLES, a.role, (v) => {
          a.role = v as Role;
        });
        parts.push(labelled(role.id, "Who", role), text("Message that mentions them"));
        break;
      }
      case "webhook":
        parts.push(this.#pick("webhook", "Webhook", "webhooks", a.webhook, (v) => (a.webhook = v)));
        break;
      case "mute": {
        const seconds = choiceSelect(
          [id("seconds"), "action-seconds"],
          MUTE_CHOICES.map(([value, label]) => ({ value: String(value), label })),
          String(a.seconds),
          (v) => (a.seconds = Number(v)),
        );
        parts.push(labelled(seconds.id, "For", seconds));
        break;
      }
      case "topic": {
        const topic = textInput([id("topic"), "action-topic"], a.topic, (v) => (a.topic = v), {
          maxlength: 200,
        });
        parts.push(labelled(topic.id, "New topic", topic));
        break;
      }
      case "plugin": {
        const args = textInput([id("args"), "action-args"], a.args, (v) => (a.args = v), {
          maxlength: 1000,
        });
        parts.push(
          this.#pick("command", "Command", "commands", a.command, (v) => (a.command = v)),
          labelled(args.id, "Arguments (the text after the command)", args),
        );
        break;
      }
    }
    replace(this.#fields, ...parts);
  }

  /** A select of the room's webhooks or the plugins' commands, or why there is none. */
  #pick(
    name: "webhook" | "command",
    label: string,
    from: keyof Picks,
    value: string,
    set: (value: string) => void,
  ): HTMLElement {
    const id = `${this.#prefix}-${name}`;
    const picks = this.#actions.picks()?.[from];
    if (picks === undefined) return h("p", { class: "hint" }, "Loading the choices…");
    if (typeof picks === "string")
      return h("p", { class: "hint", "data-testid": `action-${name}-none` }, picks);
    const choices = [{ value: "", label: "Choose…" }, ...picks];
    // A saved choice that is gone (a deleted webhook) still shows, so that it can be replaced.
    if (value && !picks.some((c) => c.value === value))
      choices.push({ value, label: `${value} (gone)` });
    return labelled(id, label, choiceSelect([id, `action-${name}`], choices, value, set));
  }
}
