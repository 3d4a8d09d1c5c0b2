import {
  MAX_INCOMING_HOOKS,
  type IncomingHook,
  type IncomingWebhooksApi,
  type IssuedIncomingHook,
} from "../../client/index.ts";
import { deleteWithConfirm } from "../admin/service-parts.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import { secretReveal } from "../secret-reveal.ts";
import { serviceBadge } from "../service-badge.ts";
import {
  activeCount,
  createdText,
  curlExample,
  hookStatusText,
  lastUsedText,
} from "./incoming-rules.ts";
import type { ApiScope } from "./scope.ts";

/**
 * A room's incoming webhooks, managed (docs/integrations.md, "Managing incoming webhooks in the
 * UI"), in the room's Integrations panel beside its outgoing webhooks and on their pieces: the
 * cards of the list, the secret shown once (here the URL, with a `curl` command that uses it),
 * the confirmation in place before a revoke. The list: each hook's name, its bot, who made it
 * and when, its last use, and whether it is revoked.
 */
export class IncomingWebhooksPanel {
  readonly el: HTMLElement;
  readonly #scope: ApiScope<IncomingWebhooksApi>;
  readonly #room: string;
  readonly #list = h("ul", { class: "webhook-list", "data-testid": "incoming-list" });
  readonly #empty = h("p", { class: "hint", hidden: true }, "No incoming webhooks yet.");
  readonly #count = h("p", { class: "hint", "data-testid": "incoming-count" });
  readonly #done = h("p", { class: "hint", role: "status", "data-testid": "incoming-done" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "incoming-error",
    hidden: true,
  });
  readonly #formSlot = h("div", {});
  readonly #add: HTMLButtonElement;
  readonly #reveal: ReturnType<typeof secretReveal>;

  constructor(scope: ApiScope<IncomingWebhooksApi>, room: string) {
    this.#scope = scope;
    this.#room = room;
    this.#add = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        "data-testid": "incoming-add",
        on: { click: () => this.#toggleForm() },
      },
      "New incoming webhook",
    );
    this.#reveal = secretReveal({
      name: "incoming-url",
      label: "URL",
      testid: "incoming-url-reveal",
      afterDone: () => this.#add.focus(),
    });
    this.el = h(
      "section",
      {
        class: "card webhooks incoming-webhooks",
        "aria-labelledby": "incoming-webhooks-title",
        "data-testid": "incoming-webhooks",
      },
      h("h3", { id: "incoming-webhooks-title" }, "Incoming webhooks"),
      h(
        "p",
        { class: "hint" },
        "A secret URL that posts into this room: anything that can post to a Slack incoming " +
          'webhook (a CI system, an alert manager) sends JSON such as {"text": "Build passed"}, ' +
          "and the message appears as the hook's bot. The URL is shown once; revoke it if it leaks.",
      ),
      h(
        "div",
        { class: "row" },
        this.#add,
        h(
          "button",
          {
            type: "button",
            "data-testid": "incoming-refresh",
            on: { click: () => this.#reload() },
          },
          "Refresh",
        ),
      ),
      this.#formSlot,
      this.#reveal.el,
      this.#error,
      this.#done,
      this.#count,
      this.#empty,
      this.#list,
    );
    this.#reload();
  }

  /** Nothing runs in the background here; the panel's other sections have timers. */
  dispose(): void {}

  async load(): Promise<void> {
    const { hooks } = await this.#scope.call((api) => api.list());
    this.#draw(hooks);
  }

  #reload(): void {
    this.#error.hidden = true;
    this.load().catch((error: unknown) =>
      this.#fail(error, "Could not load the incoming webhooks: "),
    );
  }

  /** Draws the list anew: nothing in a card is being typed in, so nothing is lost. */
  #draw(hooks: IncomingHook[]): void {
    // A revoke from its own confirmation takes that button away: the focus goes somewhere stable.
    const hadFocus = this.#list.contains(document.activeElement);
    const now = Date.now();
    replace(this.#list, ...hooks.map((hook) => this.#card(hook, now)));
    if (hadFocus) this.#add.focus();
    this.#empty.hidden = hooks.length > 0;
    this.#count.hidden = hooks.length === 0;
    this.#count.textContent = `${activeCount(hooks)} of ${MAX_INCOMING_HOOKS} working.`;
  }

  #card(hook: IncomingHook, now: number): HTMLLIElement {
    const active = hook.revokedAt === null;
    const fact = (term: string, value: Node | string, testid: string) => [
      h("dt", {}, term),
      h("dd", { "data-testid": testid }, value),
    ];
    return h(
      "li",
      {
        class: "webhook incoming-hook",
        "data-hook": hook.id,
        "data-status": active ? "active" : "revoked",
      },
      h(
        "div",
        { class: "webhook-head" },
        h("span", { class: "webhook-url", "data-testid": "incoming-name" }, hook.name),
        serviceBadge(hook.botId),
        h(
          "span",
          { class: `badge ${active ? "ok" : "muted"}`, "data-testid": "incoming-status" },
          hookStatusText(hook, now),
        ),
      ),
      h(
        "dl",
        { class: "webhook-facts" },
        ...fact("Bot", h("span", { class: "mono" }, hook.botId), "incoming-bot"),
        ...fact("Created", createdText(hook, now), "incoming-created"),
        ...fact("Last used", lastUsedText(hook, now), "incoming-last-used"),
      ),
      active
        ? h(
            "div",
            { class: "webhook-actions" },
            deleteWithConfirm(
              `the incoming webhook ${hook.name}`,
              () => void this.#revoke(hook),
              "Its URL answers 404 at once; the messages it posted stay.",
              "Revoke",
            ),
          )
        : null,
    );
  }

  async #revoke(hook: IncomingHook): Promise<void> {
    this.#error.hidden = true;
    this.#done.textContent = "";
    try {
      await this.#scope.call((api) => api.revoke(hook.id));
      this.#done.textContent = `Revoked ${hook.name}: its URL answers 404 now.`;
    } catch (error) {
      this.#fail(error);
    }
    // Whatever happened, show the hooks as they are now.
    await this.load().catch(() => undefined);
  }

  #toggleForm(): void {
    if (this.#formSlot.firstChild) return this.#closeForm();
    const form = this.#form();
    replace(this.#formSlot, form.el);
    this.#add.setAttribute("aria-expanded", "true");
    form.name.focus();
  }

  #closeForm(): void {
    replace(this.#formSlot);
    this.#add.setAttribute("aria-expanded", "false");
    this.#add.focus();
  }

  /** A name, and the hook is made: its URL shows once, with a `curl` command that uses it. */
  #form() {
    const name = h("input", {
      id: "new-incoming-name",
      required: true,
      maxlength: 80,
      autocomplete: "off",
      placeholder: "CI",
      "aria-describedby": "new-incoming-name-hint",
      "data-testid": "incoming-name-input",
    });
    const problem = h("p", {
      class: "error",
      role: "alert",
      "data-testid": "incoming-form-error",
      hidden: true,
    });
    const submit = h("button", { type: "submit", "data-testid": "incoming-save" }, "Create");
    const fail = (message: string) => {
      problem.textContent = message;
      problem.hidden = false;
      name.focus();
    };
    const save = async () => {
      problem.hidden = true;
      if (!name.value.trim()) return fail("Enter a name: its messages show it as their author.");
      submit.disabled = true;
      try {
        const issued = await this.#scope.call((api) => api.create({ name: name.value }));
        this.#closeForm();
        this.#showUrl(issued);
      } catch (error) {
        if (!this.#scope.signedOut(error)) fail(errorText(error));
      } finally {
        submit.disabled = false;
      }
      await this.load().catch(() => undefined);
    };
    const el = h(
      "form",
      {
        class: "webhook-form",
        "aria-label": "New incoming webhook",
        novalidate: true,
        on: {
          submit: (event) => {
            event.preventDefault();
            void save();
          },
        },
      },
      h("label", { for: name.id }, "Name"),
      name,
      h(
        "p",
        { id: "new-incoming-name-hint", class: "hint" },
        "Its messages show this name with a bot badge, unless a body says username.",
      ),
      problem,
      h(
        "div",
        { class: "row form-buttons" },
        submit,
        h(
          "button",
          {
            type: "button",
            "data-testid": "incoming-cancel",
            on: { click: () => this.#closeForm() },
          },
          "Cancel",
        ),
      ),
    );
    return { el, name };
  }

  #showUrl({ hook, url }: IssuedIncomingHook): void {
    this.#done.textContent = "";
    this.#reveal.show(
      url,
      `Incoming webhook ${hook.name} made. Its URL:`,
      "Copy this URL now: it is shown only this once, and only its hash is kept. Anyone who has " +
        `it can post into #${this.#room} as ${hook.name}; revoke it if it leaks.`,
      { label: "Try it with curl:", text: curlExample(url, hook.name) },
    );
  }

  #fail(error: unknown, prefix = ""): void {
    if (this.#scope.signedOut(error)) return;
    this.#error.textContent = prefix + errorText(error);
    this.#error.hidden = false;
  }
}
