import type { DryRunReport, Rule, RuleInput } from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import type { ApiScope } from "../webhooks/scope.ts";
import type { Names } from "./automation-rules.ts";
import { browserZone } from "./form-parts.ts";
import { RuleBuilder, type BuilderPicks } from "./rule-builder.ts";
import { inputOfRule, ROOM_DELETE_NOTE, RuleCard } from "./rule-card.ts";
import type { RuleScope } from "./rule-draft.ts";
import type { RulesCalls } from "./rules-api.ts";

/** What differs between a room's rules and the instance's, in words. */
const WORDS: Record<RuleScope, { intro: string; saved: string; deleteNote: string }> = {
  room: {
    intro:
      "A rule does up to five things when something happens here or when its time comes. It acts " +
      "as its own bot; its own posts never set it off, and all rules together take at most 30 " +
      "actions a minute.",
    saved: "",
    deleteNote: ROOM_DELETE_NOTE,
  },
  instance: {
    intro:
      "An instance rule runs in every room it names (every room when it names none), beside the " +
      "rooms' own rules: it acts as its own bot in each room, and shares each room's 30 actions " +
      "a minute. Rooms pick up a change within 30 s of their next activity.",
    saved: " Rooms pick it up within 30 s.",
    deleteNote: "Rooms stop running it within 30 s. There is no undo: save it again.",
  },
};

export type RulesPanelOptions = {
  /** A room's rules (the Automation view), or the instance's (the dashboard); a room's by default. */
  ruleScope?: RuleScope;
  /** The rules' calls (rules-api.ts) with the app's token and its 401 handling. */
  scope: ApiScope<RulesCalls>;
  /** What the builder picks from, and the names of the ids rules refer to, as last loaded. */
  picks(): Promise<{ picks: BuilderPicks; names: Names }>;
  /** Takes back your last action in the room (its ↶ Undo); the instance's rules have none. */
  undo?: () => Promise<unknown>;
  /** The rules as just loaded: the Schedules panel lists the timed ones. */
  loaded(rules: Rule[]): void;
};

/**
 * A room's rules (docs/automation.md, "In the UI"): one card each (rule-card.ts), New rule to open
 * the builder (rule-builder.ts) above the list, Edit to open it in a card, the Enabled switch,
 * Delete. After a save or a delete a status line says what happened and offers Undo: rules are
 * events in the room's log, and the room's undo takes back your last one. The same panel lists
 * the instance's rules in the dashboard (`ruleScope: "instance"`, admin/rules.ts), with the
 * builder in the instance's scope and no Undo.
 */
export class RulesPanel {
  readonly el: HTMLElement;
  readonly #options: RulesPanelOptions;
  readonly #cards = new Map<string, RuleCard>();
  readonly #list = h("ul", { class: "rule-list", "data-testid": "rule-list" });
  readonly #empty = h("p", { class: "hint", hidden: true }, "No rules yet.");
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "rules-error",
    hidden: true,
  });
  readonly #status = h("div", {
    class: "row rules-status",
    role: "status",
    "data-testid": "rules-status",
  });
  readonly #formSlot = h("div", {});
  readonly #add: HTMLButtonElement;
  #names: Names = {};
  #editing: RuleCard | undefined;
  readonly #scope: RuleScope;

  constructor(options: RulesPanelOptions) {
    this.#options = options;
    this.#scope = options.ruleScope ?? "room";
    this.#add = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "rule-new",
        on: { click: () => this.#toggleNew() },
      },
      "New rule",
    );
    this.el = h(
      "section",
      { class: "card rules", "aria-labelledby": "rules-title", "data-testid": "rules" },
      h("h3", { id: "rules-title" }, "Rules"),
      h("p", { class: "hint" }, WORDS[this.#scope].intro),
      h(
        "div",
        { class: "row" },
        this.#add,
        h(
          "button",
          { type: "button", "data-testid": "rules-refresh", on: { click: () => this.reload() } },
          "Refresh",
        ),
      ),
      this.#formSlot,
      this.#status,
      this.#error,
      this.#empty,
      this.#list,
    );
    void options.picks().then(({ names }) => {
      this.#names = names;
      for (const card of this.#cards.values()) card.update(card.rule, names);
    });
    this.reload();
  }

  reload(): void {
    this.#error.hidden = true;
    this.#load().catch((error: unknown) => this.#fail(error, "Could not load the rules: "));
  }

  async #load(): Promise<void> {
    const rules = await this.#options.scope.call((calls) => calls.list());
    this.#draw(rules);
    this.#options.loaded(rules);
  }

  #draw(rules: Rule[]): void {
    const ids = new Set(rules.map((rule) => rule.id));
    for (const [id, card] of this.#cards)
      if (!ids.has(id)) {
        if (card.el.contains(document.activeElement)) this.#add.focus();
        if (this.#editing === card) this.#editing = undefined;
        card.el.remove();
        this.#cards.delete(id);
      }
    rules.forEach((rule, index) => {
      const card = this.#cards.get(rule.id);
      if (card) {
        card.update(rule, this.#names);
        // The server's order; a card already in place is not moved, so it keeps the focus.
        const there = this.#list.children[index];
        if (there !== card.el) this.#list.insertBefore(card.el, there ?? null);
        return;
      }
      const created = new RuleCard(
        rule,
        this.#names,
        {
          setEnabled: (r, enabled) =>
            void this.#change(
              (calls) => calls.save(r.id, { ...inputOfRule(r), enabled }),
              `Rule “${r.name}” turned ${enabled ? "on" : "off"}.${WORDS[this.#scope].saved}`,
            ),
          edit: (c) => this.#toggleEdit(c),
          remove: (r) =>
            void this.#change((calls) => calls.remove(r.id), `Rule “${r.name}” deleted.`),
        },
        WORDS[this.#scope].deleteNote,
      );
      this.#cards.set(rule.id, created);
      this.#list.insertBefore(created.el, this.#list.children[index] ?? null);
    });
    this.#empty.hidden = rules.length > 0;
  }

  /** Runs a change, says what it did with Undo beside it, and shows the rules as they are now. */
  async #change(run: (calls: RulesCalls) => Promise<unknown>, done: string): Promise<void> {
    this.#error.hidden = true;
    replace(this.#status);
    try {
      await this.#options.scope.call(run);
      this.#say(done);
    } catch (error) {
      this.#fail(error);
    } finally {
      await this.#load().catch(() => undefined);
    }
  }

  /** What just happened, and Undo for it when the room can undo. */
  #say(done: string): void {
    const undo = this.#options.undo;
    replace(
      this.#status,
      h("span", { "data-testid": "rules-done" }, done),
      undo
        ? h(
            "button",
            {
              type: "button",
              "data-testid": "rules-undo",
              title: "Takes back your last action in this room",
              on: {
                click: () =>
                  void undo().then(
                    () => {
                      this.#say("Undone.");
                      this.reload();
                    },
                    (error: unknown) => this.#fail(error, "Could not undo: "),
                  ),
              },
            },
            "Undo",
          )
        : null,
    );
  }

  #builder(
    prefix: string,
    label: string,
    submit: string,
    save: (input: RuleInput) => Promise<unknown>,
    close: () => void,
    initial?: RuleInput,
  ) {
    return new RuleBuilder({
      scope: this.#scope,
      prefix,
      label,
      submit,
      initial,
      zone: browserZone(),
      picks: this.#options.picks().then(({ picks }) => picks),
      save: async (input) => {
        await save(input);
        close();
      },
      dryRun: (input, room): Promise<DryRunReport> =>
        this.#options.scope.call((calls) => calls.dryRun(input, room)),
      cancel: close,
    });
  }

  #toggleNew(): void {
    if (this.#formSlot.firstChild) return this.#closeNew();
    const builder = this.#builder(
      "new-rule",
      "New rule",
      "Save rule",
      (input) => this.#saveOrThrow((calls) => calls.create(input), this.#savedText(input)),
      () => this.#closeNew(),
    );
    replace(this.#formSlot, builder.el);
    this.#add.setAttribute("aria-expanded", "true");
    builder.focus();
  }

  #closeNew(): void {
    replace(this.#formSlot);
    this.#add.setAttribute("aria-expanded", "false");
    this.#add.focus();
  }

  #toggleEdit(card: RuleCard): void {
    const was = this.#editing;
    if (was) was.showEditor(undefined);
    this.#editing = undefined;
    if (was === card) return;
    const { rule } = card;
    const builder = this.#builder(
      `edit-${rule.id}`,
      `Edit the rule ${rule.name}`,
      "Save",
      (input) => this.#saveOrThrow((calls) => calls.save(rule.id, input), this.#savedText(input)),
      () => {
        card.showEditor(undefined);
        if (this.#editing === card) this.#editing = undefined;
      },
      inputOfRule(rule),
    );
    card.showEditor(builder.el);
    this.#editing = card;
    builder.focus();
  }

  /** A save from a builder: its refusal goes back to the builder, which places it. */
  async #saveOrThrow(run: (calls: RulesCalls) => Promise<unknown>, done: string): Promise<void> {
    replace(this.#status);
    try {
      await this.#options.scope.call(run);
    } finally {
      await this.#load().catch(() => undefined);
    }
    this.#say(done);
  }

  #savedText(input: RuleInput): string {
    return `Rule “${input.name}” saved.${WORDS[this.#scope].saved}`;
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#options.scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}
