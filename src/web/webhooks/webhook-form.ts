import {
  MAX_WEBHOOK_URL,
  type CreateWebhook,
  type EventType,
  type WebhookEventTypes,
} from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h } from "../dom.ts";
import { eventTypeGroups } from "./webhook-rules.ts";

/** What the form edits: the same fields for a new endpoint and for a change to one. */
export type WebhookFields = Pick<CreateWebhook, "url" | "eventTypes" | "description">;

/**
 * The fields of an endpoint (webhooks-panel.ts): its URL, its event types as checkboxes in
 * groups with "All events" above them, and a description. `prefix` keeps ids unique when several
 * forms are on the page. Submitting calls `save` with what was typed; the server checks the URL
 * and says what is wrong, shown under the buttons.
 */
export function webhookForm(options: {
  prefix: string;
  label: string;
  submit: string;
  initial?: WebhookFields;
  save: (fields: WebhookFields) => Promise<unknown>;
  cancel: () => void;
}) {
  const { prefix, initial } = options;
  const url = h("input", {
    id: `${prefix}-url`,
    type: "url",
    inputmode: "url",
    required: true,
    maxlength: MAX_WEBHOOK_URL,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://example.com/hooks/edgechat",
    value: initial?.url ?? "",
    "data-testid": "webhook-url",
  });
  const chosen = initial?.eventTypes;
  const all = h("input", {
    type: "checkbox",
    id: `${prefix}-all`,
    checked: chosen === undefined || chosen === "*",
    "data-testid": "webhook-all-events",
  });
  const boxes = eventTypeGroups().flatMap((group) =>
    group.types.map((type) =>
      h("input", {
        type: "checkbox",
        id: `${prefix}-type-${type}`,
        value: type,
        checked: Array.isArray(chosen) && chosen.includes(type),
        "data-testid": `event-${type}`,
      }),
    ),
  );
  const boxFor = (type: EventType) => boxes.find((box) => box.value === type)!;
  // With "All events" the single types say nothing: they are disabled, not cleared.
  const followAll = () => boxes.forEach((box) => (box.disabled = all.checked));
  all.addEventListener("change", followAll);
  followAll();
  const description = h("input", {
    id: `${prefix}-description`,
    maxlength: 200,
    autocomplete: "off",
    value: initial?.description ?? "",
    placeholder: "What receives it (optional)",
    "data-testid": "webhook-description",
  });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "webhook-form-error",
    hidden: true,
  });
  const submit = h("button", { type: "submit", "data-testid": "webhook-save" }, options.submit);

  const eventTypes = (): WebhookEventTypes | undefined => {
    if (all.checked) return "*";
    const picked = boxes.filter((box) => box.checked).map((box) => box.value as EventType);
    return picked.length ? (picked as [EventType, ...EventType[]]) : undefined;
  };

  const el = h(
    "form",
    {
      class: "webhook-form",
      "aria-label": options.label,
      novalidate: true,
      on: {
        submit: (event) => {
          event.preventDefault();
          const types = eventTypes();
          problem.hidden = true;
          if (!url.value.trim()) return fail("Enter the URL that receives the events.", url);
          if (!types) return fail("Choose at least one event type, or All events.", all);
          submit.disabled = true;
          options
            .save({
              url: url.value.trim(),
              eventTypes: types,
              description: description.value.trim(),
            })
            .catch((error: unknown) => fail(errorText(error)))
            .finally(() => (submit.disabled = false));
        },
      },
    },
    h("label", { for: url.id }, "URL"),
    url,
    h(
      "fieldset",
      { class: "event-types" },
      h("legend", {}, "Events"),
      h("label", { class: "check all-events", for: all.id }, all, " All events, new kinds too"),
      h(
        "div",
        { class: "event-groups" },
        ...eventTypeGroups().map((group) =>
          h(
            "fieldset",
            { class: "event-group" },
            h("legend", {}, group.title),
            ...group.types.map((type) =>
              h("label", { class: "check", for: boxFor(type).id }, boxFor(type), " ", type),
            ),
          ),
        ),
      ),
    ),
    h("label", { for: description.id }, "Description"),
    description,
    problem,
    h(
      "div",
      { class: "row form-buttons" },
      submit,
      h(
        "button",
        { type: "button", "data-testid": "webhook-cancel", on: { click: options.cancel } },
        "Cancel",
      ),
    ),
  );

  function fail(message: string, focus?: HTMLElement): void {
    problem.textContent = message;
    problem.hidden = false;
    focus?.focus();
  }

  return { el, focus: () => url.focus() };
}
