import type { Webhook, WebhooksApi } from "../../client/index.ts";
import { deleteWithConfirm } from "../admin/service-parts.ts";
import { h, replace } from "../dom.ts";
import type { IssuedSecret } from "./scope.ts";
import { webhookForm } from "./webhook-form.ts";
import {
  DEFAULT_OVERLAP,
  eventTypesText,
  secretsText,
  WEBHOOK_OVERLAPS,
  webhookStatusText,
  whenText,
} from "./webhook-rules.ts";

/** What a card asks of its panel (webhooks-panel.ts). */
export type CardActions = {
  /** Runs a change, then loads the list again; rejects with the server's refusal. */
  change(run: (hooks: WebhooksApi) => Promise<unknown>): Promise<void>;
  /** The same, with the refusal shown above the list rather than returned. */
  act(run: (hooks: WebhooksApi) => Promise<unknown>): void;
  /** A new secret, to show this once. */
  issued(issued: IssuedSecret, intro: string): void;
  /** Opens this card's delivery log, or closes it. */
  toggleLog(card: WebhookCard): void;
};

/**
 * One endpoint in the list: its URL, status (with why it is disabled), event types, failures in
 * a row, last success and failure, secrets' hints; and its buttons: the delivery log, edit,
 * enable or disable, rotate the secret with an overlap, delete after a confirmation in place
 * (the Services' and bots' `deleteWithConfirm`). `update`
 * changes what it shows in place, so that a refresh never disturbs a form being typed in.
 */
export class WebhookCard {
  readonly el: HTMLLIElement;
  readonly id: string;
  webhook: Webhook;
  readonly #url = h("span", { class: "mono webhook-url", "data-testid": "webhook-url-text" });
  readonly #status = h("span", { class: "badge", "data-testid": "webhook-status" });
  readonly #description = h("p", { class: "webhook-description" });
  readonly #facts = h("dl", { class: "webhook-facts" });
  readonly #toggle = h("button", { type: "button", "data-testid": "webhook-toggle" });
  readonly #logButton: HTMLButtonElement;
  readonly #editButton: HTMLButtonElement;
  readonly #editSlot = h("div", { class: "webhook-edit" });
  readonly #logSlot = h("div", { class: "webhook-log" });

  constructor(webhook: Webhook, actions: CardActions) {
    this.webhook = webhook;
    this.id = webhook.id;
    const id = webhook.id;
    this.#logButton = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "webhook-deliveries",
        on: { click: () => actions.toggleLog(this) },
      },
      "Deliveries",
    );
    this.#editButton = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "webhook-edit",
        on: { click: () => this.#edit(actions) },
      },
      "Edit",
    );
    this.#toggle.addEventListener("click", () =>
      actions.act((hooks) => hooks.setEnabled(id, this.webhook.status !== "enabled")),
    );
    const overlap = h(
      "select",
      { id: `overlap-${id}`, "data-testid": "webhook-overlap" },
      ...WEBHOOK_OVERLAPS.map(([seconds, label]) =>
        h("option", { value: seconds, selected: seconds === DEFAULT_OVERLAP }, label),
      ),
    );
    const rotate = h(
      "button",
      {
        type: "button",
        "data-testid": "webhook-rotate",
        on: {
          click: () =>
            actions.act(async (hooks) => {
              const issued = await hooks.rotateSecret(id, Number(overlap.value));
              const old = issued.webhook.secrets[1]?.expiresAt;
              actions.issued(
                issued,
                old
                  ? `Secret rotated; the old one also signs until ${new Date(old).toLocaleString()}. The new one:`
                  : "Secret rotated; the old one no longer signs. The new one:",
              );
            }),
        },
      },
      "Rotate secret",
    );
    const remove = deleteWithConfirm(
      "this webhook",
      () => actions.act((hooks) => hooks.remove(id)),
      "Its delivery log goes with it, and its receiver gets nothing more.",
    );
    this.el = h(
      "li",
      { class: "webhook", "data-webhook": id },
      h("div", { class: "webhook-head" }, this.#url, this.#status),
      this.#description,
      this.#facts,
      h(
        "div",
        { class: "webhook-actions" },
        this.#logButton,
        this.#editButton,
        this.#toggle,
        h(
          "span",
          { class: "rotate" },
          h("label", { for: overlap.id }, "Old secret keeps signing for"),
          overlap,
          rotate,
        ),
        remove,
      ),
      this.#editSlot,
      this.#logSlot,
    );
    this.update(webhook);
  }

  update(webhook: Webhook): void {
    this.webhook = webhook;
    const enabled = webhook.status === "enabled";
    this.el.dataset.status = webhook.status;
    this.#url.textContent = webhook.url;
    this.#status.textContent = webhookStatusText(webhook);
    this.#status.className = `badge ${enabled ? "ok" : "muted"}`;
    this.#description.textContent = webhook.description;
    this.#description.hidden = webhook.description === "";
    this.#toggle.textContent = enabled ? "Disable" : "Enable";
    const now = Date.now();
    const fact = (term: string, value: string, testid: string) => [
      h("dt", {}, term),
      h("dd", { "data-testid": testid }, value),
    ];
    replace(
      this.#facts,
      ...fact("Events", eventTypesText(webhook.eventTypes), "webhook-events"),
      ...fact("Failures in a row", String(webhook.failuresInARow), "webhook-failures"),
      ...fact("Last success", whenText(webhook.lastSuccessAt, now), "webhook-last-success"),
      ...fact("Last failure", whenText(webhook.lastFailureAt, now), "webhook-last-failure"),
      ...fact("Secret", secretsText(webhook), "webhook-secrets"),
    );
  }

  /** Shows `log` (the delivery log) under the card, or takes it away. */
  showLog(log: HTMLElement | undefined): void {
    replace(this.#logSlot, log);
    this.#logButton.setAttribute("aria-expanded", String(log !== undefined));
  }

  #edit(actions: CardActions): void {
    if (this.#editSlot.firstChild) return this.#closeEdit();
    const form = webhookForm({
      prefix: `edit-${this.id}`,
      label: `Edit the webhook to ${this.webhook.url}`,
      submit: "Save",
      initial: this.webhook,
      save: async (fields) => {
        await actions.change((hooks) => hooks.update(this.id, fields));
        this.#closeEdit();
      },
      cancel: () => this.#closeEdit(),
    });
    replace(this.#editSlot, form.el);
    this.#editButton.setAttribute("aria-expanded", "true");
    form.focus();
  }

  #closeEdit(): void {
    replace(this.#editSlot);
    this.#editButton.setAttribute("aria-expanded", "false");
    this.#editButton.focus();
  }
}
