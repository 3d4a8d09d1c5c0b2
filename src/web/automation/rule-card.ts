import type { Rule, RuleInput } from "../../client/index.ts";
import { deleteWithConfirm } from "../admin/service-parts.ts";
import { h, replace } from "../dom.ts";
import {
  conditionsText,
  isTimed,
  nextText,
  triggerText,
  actionText,
  type Names,
} from "./automation-rules.ts";

/** What a rule's card asks of its panel (rules-panel.ts). */
export type RuleCardActions = {
  /** Saves the rule with `enabled` switched. */
  setEnabled(rule: Rule, enabled: boolean): void;
  /** Opens the builder on this rule in the card, or closes it. */
  edit(card: RuleCard): void;
  remove(rule: Rule): void;
};

/** What Delete's confirmation says happens after (a room's rule: Undo in the room). */
export const ROOM_DELETE_NOTE = "Undo in the room takes it back.";

/** The RuleInput of a stored rule: what PUT takes back. */
export const inputOfRule = ({ name, enabled, trigger, conditions, actions }: Rule): RuleInput => ({
  name,
  enabled,
  trigger,
  conditions,
  actions,
});

/**
 * One rule in the list: its name, an Enabled switch, the trigger, conditions and actions in
 * words, who saved it and when, the next time of a timed one; Edit (the builder opens in the
 * card) and Delete (confirmed in place).
 */
export class RuleCard {
  readonly el: HTMLLIElement;
  rule: Rule;
  readonly #name = h("h4", { class: "rule-name", "data-testid": "rule-card-name" });
  readonly #enabled: HTMLInputElement;
  readonly #details = h("dl", { class: "rule-facts" });
  readonly #editButton: HTMLButtonElement;
  readonly #editSlot = h("div", { class: "rule-edit" });
  #names: Names;

  constructor(rule: Rule, names: Names, actions: RuleCardActions, deleteNote = ROOM_DELETE_NOTE) {
    this.rule = rule;
    this.#names = names;
    const switchId = `rule-enabled-${rule.id}`;
    this.#enabled = h("input", {
      type: "checkbox",
      role: "switch",
      id: switchId,
      "data-testid": "rule-toggle",
      on: { change: () => actions.setEnabled(this.rule, this.#enabled.checked) },
    });
    this.#editButton = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "rule-edit",
        on: { click: () => actions.edit(this) },
      },
      "Edit",
    );
    this.el = h(
      "li",
      { class: "rule", "data-rule": rule.id, "data-testid": "rule-card" },
      h(
        "div",
        { class: "rule-head" },
        this.#name,
        h("label", { class: "check switch", for: switchId }, this.#enabled, " Enabled"),
      ),
      this.#details,
      h(
        "div",
        { class: "row rule-actions" },
        this.#editButton,
        deleteWithConfirm("this rule", () => actions.remove(this.rule), deleteNote),
      ),
      this.#editSlot,
    );
    this.update(rule, names);
  }

  update(rule: Rule, names: Names = this.#names): void {
    this.rule = rule;
    this.#names = names;
    this.el.dataset.enabled = String(rule.enabled);
    this.#name.textContent = rule.name;
    this.#enabled.checked = rule.enabled;
    this.#enabled.setAttribute("aria-label", `${rule.name}: enabled`);
    const fact = (term: string, value: string, testid: string) => [
      h("dt", {}, term),
      h("dd", { "data-testid": testid }, value),
    ];
    const conditions = conditionsText(rule.conditions);
    replace(
      this.#details,
      ...fact("When", triggerText(rule.trigger, names), "rule-trigger-text"),
      ...(conditions ? fact("Only", conditions, "rule-conditions-text") : []),
      ...fact(
        "Then",
        rule.actions.map((action) => actionText(action, names)).join("; "),
        "rule-actions-text",
      ),
      ...(isTimed(rule) ? fact("Next", nextText(rule, Date.now()), "rule-next") : []),
      ...fact(
        "Saved",
        `by ${rule.by.name}, ${new Date(rule.savedAt).toLocaleString()}`,
        "rule-saved",
      ),
    );
  }

  /** Shows the builder (or nothing) under the card. */
  showEditor(form: HTMLElement | undefined): void {
    replace(this.#editSlot, form);
    this.#editButton.setAttribute("aria-expanded", String(form !== undefined));
    if (!form) this.#editButton.focus();
  }

  get editing(): boolean {
    return this.#editSlot.firstChild !== null;
  }
}
