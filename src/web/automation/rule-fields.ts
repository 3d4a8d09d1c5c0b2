import { h } from "../dom.ts";
import { DAY_NAMES, SCHEDULE_PRESETS } from "./automation-rules.ts";
import { checkbox, choiceSelect, labelled, textInput, type Choice } from "./form-parts.ts";
import { presetOf, type RuleDraft } from "./rule-draft.ts";

/**
 * The rule builder's trigger and time-window fields (rule-builder.ts): each writes into the
 * draft as it changes. `id` makes a field's id from its name (unique per builder); the zone
 * inputs suggest from the builder's list of zones, `id("zones")`.
 */
type Id = (name: string) => string;

/** The fields of the draft's trigger kind; `hooks`: the room's incoming webhooks, or why none. */
export function triggerFields(
  d: RuleDraft,
  id: Id,
  context: { zone: string; hooks: readonly Choice[] | string | undefined },
): HTMLElement[] {
  switch (d.on) {
    case "message":
      return messageFields(d, id);
    case "reaction": {
      const emoji = textInput([id("emoji"), "rule-emoji"], d.emoji, (v) => (d.emoji = v), {
        placeholder: "any",
        maxlength: 64,
      });
      return [labelled(emoji.id, "With this emoji (empty: any)", emoji)];
    }
    case "schedule":
      return scheduleFields(d, id);
    case "time": {
      const at = textInput([id("at"), "rule-at"], d.at, (v) => (d.at = v), {
        type: "datetime-local",
      });
      at.addEventListener("change", () => (d.at = at.value));
      return [labelled(at.id, `At (your time, ${context.zone})`, at)];
    }
    case "webhook":
      return [hookPick(d, id, context.hooks)];
    case "member_joined":
    case "member_left":
      return [];
  }
}

function messageFields(d: RuleDraft, id: Id): HTMLElement[] {
  const keywords = textInput(
    [id("keywords"), "rule-keywords"],
    d.keywords,
    (v) => (d.keywords = v),
    {
      placeholder: "incident, outage",
      "aria-describedby": `${id("keywords")}-hint`,
    },
  );
  const pattern = textInput([id("pattern"), "rule-pattern"], d.pattern, (v) => (d.pattern = v), {
    maxlength: 200,
    spellcheck: "false",
    class: "mono",
    "aria-describedby": `${id("pattern")}-hint`,
  });
  return [
    labelled(
      keywords.id,
      "Words or phrases",
      keywords,
      "Separated by commas; whole words, any case.",
    ),
    labelled(
      pattern.id,
      "Or a pattern (optional)",
      pattern,
      "An RE2 regular expression: no backreferences or lookaround, so it runs in linear time.",
    ),
  ];
}

/** A preset or a cron expression of one's own, and its zone. */
function scheduleFields(d: RuleDraft, id: Id): HTMLElement[] {
  const cron = textInput(
    [id("cron"), "rule-cron"],
    d.cron,
    (v) => {
      d.cron = v;
      preset.value = presetOf(v);
    },
    {
      spellcheck: "false",
      class: "mono",
      maxlength: 100,
      "aria-describedby": `${id("cron")}-hint`,
    },
  );
  const preset = choiceSelect(
    [id("preset"), "rule-preset"],
    [
      ...SCHEDULE_PRESETS.map((p) => ({ value: p.cron, label: p.label })),
      { value: "custom", label: "Custom…" },
    ],
    presetOf(d.cron),
    (v) => {
      if (v === "custom") return cron.focus();
      d.cron = cron.value = v;
    },
  );
  const zone = textInput([id("zone"), "rule-zone"], d.timeZone, (v) => (d.timeZone = v), {
    list: id("zones"),
    spellcheck: "false",
  });
  return [
    labelled(preset.id, "Repeat", preset),
    labelled(
      cron.id,
      "Cron expression",
      cron,
      "Five fields: minute hour day-of-month month day-of-week.",
    ),
    labelled(zone.id, "Time zone", zone),
  ];
}

function hookPick(
  d: RuleDraft,
  id: Id,
  hooks: readonly Choice[] | string | undefined,
): HTMLElement {
  if (hooks === undefined)
    return h("p", { class: "hint" }, "Loading the room's incoming webhooks…");
  if (typeof hooks === "string")
    return h("p", { class: "hint", "data-testid": "rule-hook-none" }, hooks);
  const select = choiceSelect(
    [id("hook"), "rule-hook"],
    [{ value: "", label: "Choose…" }, ...hooks],
    d.hook,
    (v) => (d.hook = v),
  );
  return labelled(select.id, "Incoming webhook", select);
}

/**
 * An instance rule's rooms (its `rooms` condition): names separated by commas, suggested from
 * `names` (a datalist of the instance's rooms); empty, the rule applies to every room.
 */
export function roomsField(d: RuleDraft, id: Id, names: string): HTMLElement {
  const rooms = textInput([id("rooms"), "rule-rooms"], d.rooms, (v) => (d.rooms = v), {
    list: names,
    spellcheck: "false",
    placeholder: "every room",
    "aria-describedby": `${id("rooms")}-hint`,
  });
  return labelled(
    rooms.id,
    "In these rooms",
    rooms,
    "Room names, separated by commas; empty: every room, those made later too.",
  );
}

/** The time window's days, from, to and zone. */
export function windowFields(d: RuleDraft, id: Id): HTMLElement[] {
  const days = DAY_NAMES.map((name, day) =>
    checkbox(
      [id(`day-${day}`), `rule-day-${day}`],
      name.slice(0, 3),
      d.days.includes(day),
      (on) => {
        d.days = on ? [...d.days, day] : d.days.filter((x) => x !== day);
      },
    ),
  );
  const from = textInput([id("from"), "rule-from"], d.from, (v) => (d.from = v), { type: "time" });
  const to = textInput([id("to"), "rule-to"], d.to, (v) => (d.to = v), { type: "time" });
  const zone = textInput(
    [id("window-zone"), "rule-window-zone"],
    d.windowZone,
    (v) => (d.windowZone = v),
    {
      list: id("zones"),
      spellcheck: "false",
    },
  );
  return [
    h("fieldset", { class: "checks days" }, h("legend", {}, "Days"), ...days),
    h(
      "div",
      { class: "row wrap" },
      labelled(from.id, "From", from),
      labelled(to.id, "To (before From: overnight)", to),
      labelled(zone.id, "Time zone", zone),
    ),
  ];
}
