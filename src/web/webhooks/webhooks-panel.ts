import type { Webhook, WebhooksApi } from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import { secretReveal } from "../secret-reveal.ts";
import { DeliveryLogView } from "./delivery-log.ts";
import type { IssuedSecret, WebhookScope } from "./scope.ts";
import { WebhookCard } from "./webhook-card.ts";
import { webhookForm } from "./webhook-form.ts";

/**
 * Outgoing webhooks, managed (docs/integrations.md, "Managing webhooks in the UI"): the same
 * screen for a room's owner in the room's Integrations panel and for admins in the dashboard's
 * Webhooks section, on the scope it is given. The list of endpoints (webhook-card.ts), a form to
 * add one whose secret shows once, and under one endpoint at a time its delivery log
 * (delivery-log.ts), which refreshes itself while open.
 */
export class WebhooksPanel {
  readonly el: HTMLElement;
  readonly #scope: WebhookScope;
  readonly #cards = new Map<string, WebhookCard>();
  readonly #list = h("ul", { class: "webhook-list", "data-testid": "webhook-list" });
  readonly #empty = h("p", { class: "hint", hidden: true }, "No webhooks yet.");
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "webhooks-error",
    hidden: true,
  });
  readonly #formSlot = h("div", {});
  readonly #add: HTMLButtonElement;
  readonly #reveal = secretReveal({
    name: "webhook-secret",
    label: "Secret",
    testid: "webhook-secret-reveal",
  });
  #open: { card: WebhookCard; log: DeliveryLogView } | undefined;

  constructor(scope: WebhookScope) {
    this.#scope = scope;
    this.#add = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "webhook-add",
        on: { click: () => this.#toggleForm() },
      },
      "Add webhook",
    );
    this.el = h(
      "section",
      { class: "card webhooks", "aria-labelledby": "webhooks-title", "data-testid": "webhooks" },
      h("h3", { id: "webhooks-title" }, "Webhooks"),
      h(
        "p",
        { class: "hint" },
        `The events you choose, from ${scope.whose}, are POSTed to your URL as JSON, signed ` +
          "per Standard Webhooks. A failed delivery is tried again for a while, then given up; " +
          "replay it from its log.",
      ),
      h(
        "div",
        { class: "row" },
        this.#add,
        h(
          "button",
          {
            type: "button",
            "data-testid": "webhooks-refresh",
            on: { click: () => this.#reload() },
          },
          "Refresh",
        ),
      ),
      this.#formSlot,
      this.#reveal.el,
      this.#error,
      this.#empty,
      this.#list,
    );
    this.#reload();
  }

  dispose(): void {
    this.#open?.log.dispose();
  }

  /** Loads the endpoints and draws them, keeping each card (and what is open in it). */
  async load(): Promise<void> {
    const { webhooks } = await this.#scope.call((hooks) => hooks.list());
    this.#draw(webhooks);
  }

  #reload(): void {
    this.#error.hidden = true;
    this.load().catch((error: unknown) => this.#fail(error, "Could not load the webhooks: "));
  }

  #draw(webhooks: Webhook[]): void {
    const ids = new Set(webhooks.map((w) => w.id));
    for (const [id, card] of this.#cards)
      if (!ids.has(id)) {
        if (this.#open?.card === card) this.#closeLog();
        // Deleted from its own confirmation: the focus goes somewhere that stays.
        const hadFocus = card.el.contains(document.activeElement);
        card.el.remove();
        if (hadFocus) this.#add.focus();
        this.#cards.delete(id);
      }
    for (const webhook of webhooks) {
      const card = this.#cards.get(webhook.id);
      if (card) card.update(webhook);
      else {
        const created = new WebhookCard(webhook, {
          change: (run) => this.#change(run),
          act: (run) => void this.#change(run).catch((error: unknown) => this.#fail(error)),
          issued: (issued, intro) => this.#showSecret(issued, intro),
          toggleLog: (which) => this.#toggleLog(which),
        });
        this.#cards.set(webhook.id, created);
        // Oldest first, as the API lists them: a new one goes at the end.
        this.#list.append(created.el);
      }
    }
    this.#empty.hidden = webhooks.length > 0;
  }

  async #change(run: (hooks: WebhooksApi) => Promise<unknown>): Promise<void> {
    this.#error.hidden = true;
    try {
      await this.#scope.call(run);
    } finally {
      // Whatever happened, show the endpoints as they are now.
      await this.load().catch(() => undefined);
    }
  }

  #toggleForm(): void {
    if (this.#formSlot.firstChild) return this.#closeForm();
    const form = webhookForm({
      prefix: "new-webhook",
      label: "Add a webhook",
      submit: "Add webhook",
      save: async (fields) => {
        let issued: IssuedSecret | undefined;
        await this.#change(async (hooks) => (issued = await hooks.create(fields)));
        this.#closeForm();
        if (issued)
          this.#showSecret(issued, `Webhook to ${issued.webhook.url} added. Its signing secret:`);
      },
      cancel: () => this.#closeForm(),
    });
    replace(this.#formSlot, form.el);
    this.#add.setAttribute("aria-expanded", "true");
    form.focus();
  }

  #closeForm(): void {
    replace(this.#formSlot);
    this.#add.setAttribute("aria-expanded", "false");
    this.#add.focus();
  }

  #showSecret(issued: IssuedSecret, intro: string): void {
    this.#reveal.show(
      issued.secret,
      intro,
      "Copy this secret now: it is shown only this once. Your receiver checks each delivery's " +
        "webhook-signature header with it (Standard Webhooks); anyone who has it can forge " +
        "deliveries.",
    );
  }

  #toggleLog(card: WebhookCard): void {
    const was = this.#open?.card;
    this.#closeLog();
    if (was === card) return;
    const log = new DeliveryLogView(this.#scope, card.webhook, (webhook) => card.update(webhook));
    card.showLog(log.el);
    this.#open = { card, log };
  }

  #closeLog(): void {
    if (!this.#open) return;
    this.#open.log.dispose();
    this.#open.card.showLog(undefined);
    this.#open = undefined;
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}
