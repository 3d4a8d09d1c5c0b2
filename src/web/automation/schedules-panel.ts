import type { Reminder, Rule, Standing } from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import type { ApiScope } from "../webhooks/scope.ts";
import {
  byTime,
  mayCancel,
  nextText,
  reminderText,
  SCHEDULE_PRESETS,
  timedRules,
  triggerText,
} from "./automation-rules.ts";
import { browserZone, choiceSelect, labelled, textInput, timeZoneList } from "./form-parts.ts";
import { msOfLocalInput, presetOf } from "./rule-draft.ts";
import type { NewReminder, RemindersCalls } from "./reminders-api.ts";

/**
 * The rules of `rules` that fire by the clock, soonest first, each with when it fires next, drawn
 * into `list` (a room's Schedules, the dashboard's instance rules); answers how many there are.
 */
export function showTimedRules(list: HTMLElement, rules: readonly Rule[]): number {
  const now = Date.now();
  const timed = timedRules(rules);
  replace(
    list,
    ...timed.map((rule) =>
      h(
        "li",
        { "data-testid": "scheduled-rule", "data-rule": rule.id },
        h("strong", {}, rule.name),
        h("span", { class: "hint" }, ` ${triggerText(rule.trigger)}`),
        h("div", { "data-testid": "scheduled-next" }, `Next: ${nextText(rule, now)}`),
      ),
    ),
  );
  return timed.length;
}

/**
 * What runs by the clock in a room (docs/automation.md, "In the UI"): every rule with a schedule
 * or a time, with when it fires next, and the reminders: yours, and for moderators the room's
 * `here` ones, each with Cancel; a short form adds one (as `/remind` does in the compose box).
 */
export class SchedulesPanel {
  readonly el: HTMLElement;
  readonly #scope: ApiScope<RemindersCalls>;
  readonly #you: { id: string; standing: Standing };
  readonly #rules = h("ul", { class: "schedule-list", "data-testid": "scheduled-rules" });
  readonly #noRules = h("p", { class: "hint" }, "No rule runs on a schedule or at a time.");
  readonly #reminders = h("ul", { class: "schedule-list", "data-testid": "reminders" });
  readonly #noReminders = h("p", { class: "hint", hidden: true }, "No reminders.");
  readonly #status = h("p", { class: "hint", role: "status", "data-testid": "reminders-status" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "reminders-error",
    hidden: true,
  });

  constructor(scope: ApiScope<RemindersCalls>, you: { id: string; standing: Standing }) {
    this.#scope = scope;
    this.#you = you;
    this.el = h(
      "section",
      { class: "card schedules", "aria-labelledby": "schedules-title", "data-testid": "schedules" },
      h("h3", { id: "schedules-title" }, "Schedules"),
      h("h4", {}, "Rules on the clock"),
      this.#noRules,
      this.#rules,
      h("h4", {}, "Reminders"),
      h(
        "p",
        { class: "hint" },
        "Also from the compose box: /remind me in 2h to check the deploy, /remind here every " +
          "monday at 9:00 to stand up.",
      ),
      this.#reminderForm(),
      this.#status,
      this.#error,
      this.#noReminders,
      this.#reminders,
    );
    this.reload();
  }

  /** The rules as the Rules panel loaded them: the timed ones are listed here. */
  showRules(rules: readonly Rule[]): void {
    this.#noRules.hidden = showTimedRules(this.#rules, rules) > 0;
  }

  reload(): void {
    this.#error.hidden = true;
    this.#load().catch((error: unknown) => this.#fail(error, "Could not load the reminders: "));
  }

  async #load(): Promise<void> {
    const reminders = byTime(await this.#scope.call((calls) => calls.list()));
    const now = Date.now();
    replace(this.#reminders, ...reminders.map((reminder) => this.#line(reminder, now)));
    this.#noReminders.hidden = reminders.length > 0;
  }

  #line(reminder: Reminder, now: number): HTMLLIElement {
    const cancel = mayCancel(reminder, this.#you)
      ? h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-testid": "reminder-cancel",
            "aria-label": `Cancel the reminder “${reminder.text}”`,
            on: { click: () => void this.#cancel(reminder) },
          },
          "Cancel",
        )
      : null;
    return h(
      "li",
      { "data-testid": "reminder", "data-reminder": reminder.id, "data-to": reminder.to },
      h("span", { class: "reminder-text", "data-testid": "reminder-text" }, reminder.text),
      h("div", { class: "hint" }, reminderText(reminder, now)),
      cancel,
    );
  }

  async #cancel(reminder: Reminder): Promise<void> {
    await this.#change(
      (calls) => calls.cancel(reminder.id),
      `Reminder “${reminder.text}” cancelled.`,
    );
    // Its line is gone: the focus goes to the list's heading area rather than the page's top.
    this.#status.focus();
  }

  async #change(run: (calls: RemindersCalls) => Promise<unknown>, done: string): Promise<boolean> {
    this.#error.hidden = true;
    this.#status.textContent = "";
    try {
      await this.#scope.call(run);
      this.#status.textContent = done;
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    } finally {
      await this.#load().catch(() => undefined);
    }
  }

  /** A reminder for you or the room, once at a time or on a schedule. */
  #reminderForm(): HTMLFormElement {
    const zone = browserZone();
    const state = {
      to: "me",
      text: "",
      when: "once",
      at: "",
      cron: SCHEDULE_PRESETS[0]!.cron,
      zone,
    };
    const to = choiceSelect(
      ["reminder-to", "reminder-to"],
      [
        { value: "me", label: "Me (only I see it)" },
        { value: "here", label: "The room (posted here)" },
      ],
      state.to,
      (v) => (state.to = v),
    );
    const text = textInput(
      ["reminder-text-input", "reminder-text-input"],
      "",
      (v) => (state.text = v),
      {
        maxlength: 1000,
        placeholder: "check the deploy",
        required: true,
      },
    );
    const at = textInput(["reminder-at", "reminder-at"], "", (v) => (state.at = v), {
      type: "datetime-local",
    });
    at.addEventListener("change", () => (state.at = at.value));
    const preset = choiceSelect(
      ["reminder-preset", "reminder-preset"],
      SCHEDULE_PRESETS.map((p) => ({ value: p.cron, label: p.label })),
      presetOf(state.cron),
      (v) => (state.cron = v),
    );
    const zoneInput = textInput(["reminder-zone", "reminder-zone"], zone, (v) => (state.zone = v), {
      list: "reminder-zones",
    });
    const once = labelled(at.id, `At (your time, ${zone})`, at);
    const repeat = h(
      "div",
      { class: "row wrap", hidden: true },
      labelled(preset.id, "Repeat", preset),
      labelled(zoneInput.id, "Time zone", zoneInput),
    );
    const when = choiceSelect(
      ["reminder-when", "reminder-when"],
      [
        { value: "once", label: "Once" },
        { value: "repeat", label: "Again and again" },
      ],
      state.when,
      (v) => {
        state.when = v;
        once.hidden = v !== "once";
        repeat.hidden = v === "once";
      },
    );
    const problem = h("p", {
      class: "error",
      role: "alert",
      "data-testid": "reminder-form-error",
      hidden: true,
    });
    const submit = async (form: HTMLFormElement) => {
      problem.hidden = true;
      const body = reminderBody(state);
      if (typeof body === "string") {
        problem.textContent = body;
        problem.hidden = false;
        return;
      }
      if (await this.#change((calls) => calls.create(body), `Reminder “${body.text}” set.`))
        form.reset();
    };
    return h(
      "form",
      {
        class: "reminder-form",
        "aria-label": "New reminder",
        novalidate: true,
        on: {
          submit: (event) => {
            event.preventDefault();
            void submit(event.target as HTMLFormElement);
          },
        },
      },
      timeZoneList("reminder-zones"),
      h(
        "div",
        { class: "row wrap" },
        labelled(to.id, "For", to),
        labelled(text.id, "To", text),
        labelled(when.id, "When", when),
      ),
      once,
      repeat,
      problem,
      h("button", { type: "submit", "data-testid": "reminder-add" }, "Add reminder"),
    );
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}

/** The form's reminder as the API's body, or what is missing. */
function reminderBody(state: {
  to: string;
  text: string;
  when: string;
  at: string;
  cron: string;
  zone: string;
}): NewReminder | string {
  const to = state.to === "here" ? "here" : "me";
  const text = state.text.trim();
  if (!text) return "Say what to remind of.";
  if (state.when !== "once") return { to, text, cron: state.cron, timeZone: state.zone.trim() };
  const at = msOfLocalInput(state.at);
  if (Number.isNaN(at)) return "Choose the date and time.";
  return { to, text, at };
}
