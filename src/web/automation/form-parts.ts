import { h } from "../dom.ts";

/**
 * Small form pieces the automation screens share: a labelled input, a select of choices, a
 * labelled checkbox, a problem's slot, the time zones' list.
 */

/** One choice of a select: its value and its words. */
export type Choice = { value: string; label: string };

/** A label above its control. */
export function labelled(id: string, label: string, control: HTMLElement, hint?: string) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
  );
}

/** A text input (`id`, test id `testid`) that writes into the draft as it is typed. */
export function textInput(
  [id, testid]: [string, string],
  value: string,
  onInput: (value: string) => void,
  attrs: Record<string, string | number | boolean | undefined> = {},
): HTMLInputElement {
  return h("input", {
    id,
    value,
    autocomplete: "off",
    "data-testid": testid,
    ...attrs,
    on: { input: (event) => onInput((event.target as HTMLInputElement).value) },
  });
}

/** A select of `choices` with `value` chosen, reporting changes. */
export function choiceSelect(
  [id, testid]: [string, string],
  choices: readonly Choice[],
  value: string,
  onChange: (value: string) => void,
  attrs: Record<string, string | undefined> = {},
): HTMLSelectElement {
  return h(
    "select",
    {
      id,
      "data-testid": testid,
      ...attrs,
      on: { change: (event) => onChange((event.target as HTMLSelectElement).value) },
    },
    ...choices.map((choice) =>
      h("option", { value: choice.value, selected: choice.value === value }, choice.label),
    ),
  );
}

/** A checkbox inside its label, reporting changes. */
export function checkbox(
  [id, testid]: [string, string],
  label: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
): HTMLLabelElement {
  const box = h("input", {
    type: "checkbox",
    id,
    checked,
    "data-testid": testid,
    on: { change: (event) => onChange((event.target as HTMLInputElement).checked) },
  });
  return h("label", { class: "check", for: id }, box, ` ${label}`);
}

/** Where a problem with one part of a form is said; `say` shows it, or hides it with undefined. */
export function problemSlot(id: string, testid: string) {
  const el = h("p", { class: "error field-error", id, "data-testid": testid, hidden: true });
  return {
    el,
    say(message: string | undefined) {
      el.textContent = message ?? "";
      el.hidden = message === undefined;
    },
  };
}

/** The runtime's IANA time zones, for a zone input's suggestions (a few when it cannot say). */
export function timeZoneList(id: string): HTMLDataListElement {
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"];
  }
  if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  return h("datalist", { id }, ...zones.map((zone) => h("option", { value: zone })));
}

/** The browser's own time zone (UTC when it cannot say). */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
