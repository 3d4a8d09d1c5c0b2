import { can, type ChainReport, type Standing } from "../client/index.ts";
import { mayAutomate } from "./automation/automation-rules.ts";
import { chainVerdictText } from "./chain-verdict.ts";
import { errorText } from "./context.ts";
import { h } from "./dom.ts";

/** What the room's header controls do; each refusal is shown beside them. */
export type RoomControlActions = {
  currentTopic: () => string;
  setTopic: (topic: string) => Promise<unknown>;
  setSlowMode: (seconds: number) => Promise<unknown>;
  leave: () => Promise<unknown>;
  /** Take back your last action here (a post, edit, delete or reaction), or apply it again. */
  undo: () => Promise<unknown>;
  redo: () => Promise<unknown>;
  /** Owners and admins: recompute the room's hash chain (docs/audit.md). */
  verify: () => Promise<ChainReport>;
  /** Where the room's Integrations panel is (owners and admins). */
  integrationsHref: string;
  /** Where the room's Automation view is (moderators and above). */
  automationHref: string;
};

/**
 * The room's header controls: undo and redo of your last action (it may have touched any
 * message, so they sit with the room, not on one message), the topic and slow mode for those
 * who may change them, the Integrations panel for those who manage them, the Automation view
 * (rules, schedules, plugins) for moderators and above, and "Leave room" for members.
 */
export function roomControls(actions: RoomControlActions) {
  const error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "controls-error",
    hidden: true,
  });
  const status = h("span", { class: "hint", "data-testid": "slow-mode-status" });
  const run = (task: Promise<unknown>) => {
    error.hidden = true;
    task.catch((e: unknown) => {
      error.textContent = errorText(e);
      error.hidden = false;
    });
  };
  const slow = h(
    "select",
    { id: "slow-mode", "data-testid": "slow-mode", "aria-label": "Slow mode" },
    h("option", { value: "", disabled: true, selected: true }, "Slow mode…"),
    ...[
      [0, "Off"],
      [10, "10 s"],
      [30, "30 s"],
      [60, "1 min"],
      [300, "5 min"],
      [900, "15 min"],
      [3600, "1 hour"],
    ].map(([value, label]) => h("option", { value: String(value) }, `Slow mode: ${label}`)),
  );
  slow.addEventListener("change", () => {
    if (slow.value === "") return;
    run(actions.setSlowMode(Number(slow.value)));
  });
  const topicInput = h("input", {
    id: "topic-input",
    maxlength: 200,
    "data-testid": "topic-input",
    "aria-label": "Topic",
    autocomplete: "off",
  });
  const topicForm = h(
    "form",
    {
      class: "topic-form row",
      hidden: true,
      on: {
        submit: (event) => {
          event.preventDefault();
          topicForm.hidden = true;
          editTopic.hidden = false;
          run(actions.setTopic(topicInput.value.trim()));
          editTopic.focus();
        },
      },
    },
    topicInput,
    h("button", { type: "submit", "data-testid": "topic-save" }, "Save"),
    h(
      "button",
      {
        type: "button",
        on: {
          click: () => {
            topicForm.hidden = true;
            editTopic.hidden = false;
            editTopic.focus();
          },
        },
      },
      "Cancel",
    ),
  );
  topicInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape")
      topicForm.querySelector<HTMLButtonElement>("button[type=button]")?.click();
  });
  const editTopic = h(
    "button",
    {
      type: "button",
      "data-testid": "edit-topic",
      on: {
        click: () => {
          topicInput.value = actions.currentTopic();
          editTopic.hidden = true;
          topicForm.hidden = false;
          topicInput.focus();
        },
      },
    },
    "Edit topic",
  );
  const moderation = h(
    "div",
    { class: "row moderation", hidden: true },
    editTopic,
    topicForm,
    slow,
    status,
  );
  const undo = h(
    "button",
    {
      type: "button",
      "data-testid": "undo",
      title: "Undo your last action here",
      on: { click: () => run(actions.undo()) },
    },
    "↶ Undo",
  );
  const redo = h(
    "button",
    {
      type: "button",
      "data-testid": "redo",
      title: "Redo what you undid last",
      on: { click: () => run(actions.redo()) },
    },
    "↷ Redo",
  );
  const verdict = h("span", { class: "hint", "data-testid": "verify-result", role: "status" });
  const verify = h(
    "button",
    {
      type: "button",
      "data-testid": "verify-log",
      hidden: true,
      title: "Recompute this room's hash chain",
      on: {
        click: () => {
          verdict.textContent = "Verifying…";
          run(
            actions.verify().then((report) => {
              verdict.textContent = chainVerdictText(report);
              verdict.classList.toggle("error", !report.ok);
            }),
          );
        },
      },
    },
    "Verify log",
  );
  const integrations = h(
    "a",
    {
      href: actions.integrationsHref,
      class: "button-link",
      "data-testid": "integrations-open",
      hidden: true,
      title: "This room's webhooks and their deliveries",
    },
    "Integrations",
  );
  const automation = h(
    "a",
    {
      href: actions.automationHref,
      class: "button-link",
      "data-testid": "automation-open",
      hidden: true,
      title: "This room's rules, schedules and plugins",
    },
    "Automation",
  );
  const leave = h(
    "button",
    {
      type: "button",
      "data-testid": "leave",
      on: {
        click: () => run(actions.leave()),
      },
    },
    "Leave room",
  );
  return {
    el: h(
      "div",
      { class: "controls" },
      h(
        "div",
        { class: "row" },
        undo,
        redo,
        moderation,
        verify,
        verdict,
        integrations,
        automation,
        leave,
      ),
      error,
    ),
    /** Shows the controls `you` may use. */
    setStanding(you: Standing) {
      const mayTopic = can(you, "topic");
      const maySlow = can(you, "slow_mode");
      moderation.hidden = !mayTopic && !maySlow;
      if (!mayTopic) topicForm.hidden = true;
      editTopic.hidden = !mayTopic || !topicForm.hidden;
      slow.hidden = status.hidden = !maySlow;
      verify.hidden = verdict.hidden = !can(you, "audit");
      integrations.hidden = !can(you, "integrations");
      automation.hidden = !mayAutomate(you);
      // An admin who is no member has nothing to leave.
      leave.hidden = you.admin === true && you.role === undefined;
    },
    slowMode(seconds: number) {
      const known = [...slow.options].some((o) => o.value === String(seconds));
      slow.value = known ? String(seconds) : "";
      status.textContent = seconds ? `slow mode on: ${seconds} s` : "";
    },
  };
}
