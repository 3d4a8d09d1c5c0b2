import type { DryRunReport, Role, RuleInput } from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import { ActionRow, type Picks } from "./action-row.ts";
import { dryRunView } from "./dry-run-view.ts";
import { roomsField, triggerFields, windowFields } from "./rule-fields.ts";
import {
  checkbox,
  choiceSelect,
  labelled,
  problemSlot,
  textInput,
  timeZoneList,
  type Choice,
} from "./form-parts.ts";
import {
  checkDraft,
  draftOf,
  emptyAction,
  emptyDraft,
  mayAddAction,
  moved,
  placeOfMessage,
  roomsOf,
  triggerKinds,
  type Problem,
  type RuleDraft,
  type RuleScope,
  type TriggerKind,
} from "./rule-draft.ts";

/**
 * What the builder picks from: the room's incoming hooks (a room's rule), webhooks (the room's or
 * the instance's) and plugins' commands; for an instance rule, the rooms' names (its rooms
 * condition's suggestions, and where to dry-run it). A list as loaded, or why there is none.
 */
export type BuilderPicks = Picks & {
  hooks: readonly Choice[] | string;
  rooms?: readonly string[] | string;
};

export type BuilderOptions = {
  /** A room's rule, or the instance's: what the form offers (rule-draft.ts, `RuleScope`). */
  scope: RuleScope;
  /** Keeps ids unique when several builders are on the page (`new`, `edit-<id>`). */
  prefix: string;
  label: string;
  submit: string;
  initial?: RuleInput;
  /** The browser's zone: a new schedule's and window's. */
  zone: string;
  picks: Promise<BuilderPicks>;
  save(input: RuleInput): Promise<unknown>;
  /** A room's rule runs in its room (`room` undefined); an instance rule in the room picked. */
  dryRun(input: RuleInput, room: string | undefined): Promise<DryRunReport>;
  cancel(): void;
};

const CONDITION_ROLES: [Role, string][] = [
  ["member", "Members"],
  ["moderator", "Moderators"],
  ["owner", "The owner"],
];

/**
 * The rule builder (docs/automation.md, "In the UI"): a name; a trigger and its fields; optional
 * conditions (roles, a time window); up to five actions, each movable and removable; Save, Dry
 * run and Cancel. What is typed is checked by the contract's schema before it is sent, and a
 * refusal of the server is placed next to the part it is about (the path of its message), with
 * a summary in an alert; the focus goes to the first problem. The dry run shows, in a live
 * region, what the rule would have done on the room's recent history. In the instance's scope
 * (the dashboard) it offers the rooms the rule applies to, no incoming-webhook trigger, and a
 * room to dry-run in.
 */
export class RuleBuilder {
  readonly el: HTMLFormElement;
  #draft: RuleDraft;
  #picks: BuilderPicks | undefined;
  #rows: ActionRow[] = [];
  readonly #options: BuilderOptions;
  readonly #id: (name: string) => string;
  readonly #name: HTMLInputElement;
  readonly #triggerFields = h("div", { class: "trigger-fields" });
  readonly #windowFields = h("div", { class: "window-fields" });
  /** An instance rule's rooms: their suggestions come with the picks. */
  readonly #roomNames: HTMLDataListElement;
  /** Where an instance rule is dry-run, once the rooms are loaded. */
  readonly #dryRunRoom = h("div", { class: "field dry-run-room" });
  #conditions!: HTMLFieldSetElement;
  readonly #actionList = h("ol", { class: "action-list", "data-testid": "rule-actions" });
  readonly #addAction: HTMLButtonElement;
  readonly #problems: Record<"name" | "trigger" | "conditions", ReturnType<typeof problemSlot>>;
  readonly #summary = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "rule-form-error",
    hidden: true,
  });
  readonly #save: HTMLButtonElement;
  readonly #dryRunButton: HTMLButtonElement;
  readonly #report = dryRunView();

  constructor(options: BuilderOptions) {
    this.#options = options;
    const id = (this.#id = (name: string) => `${options.prefix}-${name}`);
    this.#draft = options.initial
      ? draftOf(options.initial, options.zone)
      : emptyDraft(options.zone);
    this.#problems = {
      name: problemSlot(id("name-error"), "rule-name-error"),
      trigger: problemSlot(id("trigger-error"), "rule-trigger-error"),
      conditions: problemSlot(id("conditions-error"), "rule-conditions-error"),
    };
    this.#name = textInput(
      [id("name"), "rule-name"],
      this.#draft.name,
      (v) => (this.#draft.name = v),
      {
        maxlength: 80,
        required: true,
        placeholder: "Incident",
        "aria-describedby": id("name-error"),
      },
    );
    this.#addAction = h(
      "button",
      { type: "button", "data-testid": "rule-add-action", on: { click: () => this.#add() } },
      "Add action",
    );
    this.#save = h("button", { type: "submit", "data-testid": "rule-save" }, options.submit);
    this.#dryRunButton = h(
      "button",
      { type: "button", "data-testid": "rule-dry-run", on: { click: () => void this.#dryRun() } },
      "Dry run",
    );
    this.#roomNames = h("datalist", { id: id("room-names") });
    this.el = this.#form();
    this.#drawTrigger();
    this.#drawWindow();
    this.#drawActions();
    this.#drawRooms();
    void options.picks.then((picks) => {
      this.#picks = picks;
      if (this.#draft.on === "webhook") this.#drawTrigger();
      for (const row of this.#rows) row.refreshPicks();
      this.#drawRooms();
    });
  }

  get #instance(): boolean {
    return this.#options.scope === "instance";
  }

  focus(): void {
    this.#name.focus();
  }

  #form(): HTMLFormElement {
    const id = this.#id;
    const d = this.#draft;
    const kind = choiceSelect(
      [id("trigger"), "rule-trigger"],
      triggerKinds(this.#options.scope).map(([value, label]) => ({ value, label })),
      d.on,
      (v) => {
        d.on = v as TriggerKind;
        this.#problems.trigger.say(undefined);
        this.#drawTrigger();
      },
    );
    const roles = CONDITION_ROLES.map(([role, label]) =>
      checkbox([id(`role-${role}`), `rule-role-${role}`], label, d.roles.includes(role), (on) => {
        d.roles = on ? [...d.roles, role] : d.roles.filter((r) => r !== role);
      }),
    );
    const windowBox = checkbox(
      [id("window"), "rule-window"],
      "Only during a time window",
      d.window,
      (on) => {
        d.window = on;
        this.#windowFields.hidden = !on;
      },
    );
    return h(
      "form",
      {
        class: "rule-builder",
        "aria-label": this.#options.label,
        novalidate: true,
        on: {
          submit: (event) => {
            event.preventDefault();
            void this.#submit();
          },
        },
      },
      timeZoneList(id("zones")),
      labelled(this.#name.id, "Name", this.#name),
      this.#problems.name.el,
      checkbox([id("enabled"), "rule-enabled"], "Enabled", d.enabled, (on) => (d.enabled = on)),
      h(
        "fieldset",
        { class: "rule-part", "aria-describedby": id("trigger-error") },
        h("legend", {}, "When"),
        labelled(kind.id, "Trigger", kind),
        this.#triggerFields,
        this.#problems.trigger.el,
      ),
      (this.#conditions = h(
        "fieldset",
        { class: "rule-part", "aria-describedby": id("conditions-error") },
        h("legend", {}, "Only if (optional)"),
        ...(this.#instance
          ? [this.#roomNames, roomsField(this.#draft, this.#id, this.#roomNames.id)]
          : []),
        h(
          "fieldset",
          { class: "checks" },
          h("legend", {}, "The person who set it off is one of (none: anyone)"),
          ...roles,
        ),
        windowBox,
        this.#windowFields,
        this.#problems.conditions.el,
      )),
      h(
        "fieldset",
        { class: "rule-part" },
        h("legend", {}, "Then (up to 5 actions, in order)"),
        this.#actionList,
        this.#addAction,
      ),
      this.#summary,
      this.#instance ? this.#dryRunRoom : null,
      h(
        "div",
        { class: "row form-buttons" },
        this.#save,
        this.#dryRunButton,
        h(
          "button",
          { type: "button", "data-testid": "rule-cancel", on: { click: this.#options.cancel } },
          "Cancel",
        ),
      ),
      this.#report.el,
    );
  }

  #drawTrigger(): void {
    const hooks = this.#picks?.hooks;
    replace(
      this.#triggerFields,
      ...triggerFields(this.#draft, this.#id, { zone: this.#options.zone, hooks }),
    );
  }

  /**
   * An instance rule's rooms, once loaded: the rooms field's suggestions, and the select of the
   * room to dry-run in (the first of the rule's own rooms that exists, else the first room).
   */
  #drawRooms(): void {
    if (!this.#instance) return;
    const rooms = this.#picks?.rooms;
    if (rooms === undefined)
      return replace(this.#dryRunRoom, h("p", { class: "hint" }, "Loading the rooms…"));
    if (typeof rooms === "string")
      return replace(
        this.#dryRunRoom,
        h("p", { class: "hint", "data-testid": "rule-dry-run-room-none" }, rooms),
      );
    replace(this.#roomNames, ...rooms.map((name) => h("option", { value: name })));
    const own = roomsOf(this.#draft.rooms).find((name) => rooms.includes(name));
    const select = choiceSelect(
      [this.#id("dry-run-room"), "rule-dry-run-room"],
      rooms.map((name) => ({ value: name, label: `#${name}` })),
      own ?? rooms[0] ?? "",
      () => {},
    );
    replace(this.#dryRunRoom, labelled(select.id, "Dry run in the room", select));
  }

  /** The room picked for an instance rule's dry run, or undefined (a room's rule, or none yet). */
  #pickedRoom(): string | undefined {
    return this.#dryRunRoom.querySelector("select")?.value || undefined;
  }

  #drawWindow(): void {
    replace(this.#windowFields, ...windowFields(this.#draft, this.#id));
    this.#windowFields.hidden = !this.#draft.window;
  }

  #drawActions(focus?: {
    index: number;
    which: "action-up" | "action-down" | "action-kind";
  }): void {
    const actions = this.#draft.actions;
    this.#rows = actions.map(
      (action, index) =>
        new ActionRow(this.#options.prefix, index, actions.length, action, {
          move: (from, to) => this.#move(from, to),
          remove: (at) => this.#remove(at),
          picks: () => this.#picks,
        }),
    );
    replace(this.#actionList, ...this.#rows.map((row) => row.el));
    this.#addAction.disabled = !mayAddAction(this.#draft);
    if (focus) this.#rows[focus.index]?.focus(focus.which);
  }

  /** The rows' drafts back into the rule's (a row keeps its own, replaced on a new kind). */
  #collect(): void {
    this.#draft.actions = this.#rows.map((row) => row.action);
  }

  #add(): void {
    this.#collect();
    if (!mayAddAction(this.#draft)) return;
    this.#draft.actions = [...this.#draft.actions, emptyAction()];
    this.#drawActions({ index: this.#draft.actions.length - 1, which: "action-kind" });
  }

  #move(from: number, to: number): void {
    this.#collect();
    this.#draft.actions = moved(this.#draft.actions, from, to);
    this.#drawActions({ index: to, which: to < from ? "action-up" : "action-down" });
  }

  #remove(index: number): void {
    this.#collect();
    this.#draft.actions = this.#draft.actions.filter((_, i) => i !== index);
    this.#drawActions();
    const next = this.#rows[Math.min(index, this.#rows.length - 1)];
    if (next) next.focus();
    else this.#addAction.focus();
  }

  /** The rule as typed, checked; its problems shown and the focus on the first, or undefined. */
  #checked(): RuleInput | undefined {
    this.#collect();
    const checked = checkDraft(this.#draft);
    this.#show(checked.ok ? [] : checked.problems);
    return checked.ok ? checked.input : undefined;
  }

  #show(problems: Problem[]): void {
    for (const slot of Object.values(this.#problems)) slot.say(undefined);
    for (const row of this.#rows) row.problem.say(undefined);
    this.#summary.hidden = problems.length === 0;
    if (!problems.length) return;
    const general: string[] = [];
    for (const { place, message } of problems) {
      if (place.part === "action") this.#rows[place.index]?.problem.say(message);
      else if (place.part === "form") general.push(message);
      else this.#problems[place.part].say(message);
    }
    const placed = problems.length - general.length;
    this.#summary.textContent = [
      ...general,
      placed
        ? `${placed === 1 ? "One problem is" : `${placed} problems are`} shown by ${placed === 1 ? "its field" : "their fields"}.`
        : "",
    ]
      .filter(Boolean)
      .join(" ");
    this.#focusOn(problems[0]!);
  }

  #focusOn({ place }: Problem): void {
    if (place.part === "action") return this.#rows[place.index]?.focusProblem();
    if (place.part === "name") return this.#name.focus();
    // A problem with the rule as a whole is read out by the summary's alert; the focus stays.
    if (place.part === "form") return;
    const part = place.part === "trigger" ? this.#triggerFields : this.#conditions;
    [...part.querySelectorAll<HTMLElement>("input, select, textarea")]
      .find((control) => control.offsetParent !== null)
      ?.focus();
  }

  /** A refusal of the server, placed by its message's path. */
  #refused(error: unknown): void {
    this.#show([placeOfMessage(errorText(error))]);
  }

  async #submit(): Promise<void> {
    const input = this.#checked();
    if (!input) return;
    this.#save.disabled = true;
    try {
      await this.#options.save(input);
    } catch (error) {
      this.#refused(error);
    } finally {
      this.#save.disabled = false;
    }
  }

  async #dryRun(): Promise<void> {
    const input = this.#checked();
    if (!input) return this.#report.clear();
    const room = this.#pickedRoom();
    if (this.#instance && room === undefined) {
      this.#report.clear();
      return this.#show([{ place: { part: "form" }, message: "Choose a room to dry-run in." }]);
    }
    this.#dryRunButton.disabled = true;
    this.#report.busy(room);
    try {
      this.#report.show(await this.#options.dryRun(input, room));
    } catch (error) {
      this.#report.clear();
      this.#refused(error);
    } finally {
      this.#dryRunButton.disabled = false;
    }
  }
}
