import type { CustomSlashCommand } from "../client/index.ts";
import { errorText, type AppContext } from "./context.ts";
import { h, replace } from "./dom.ts";

/**
 * The room owner's custom slash commands (docs/integrations.md), in place of the live room: the
 * list, a form to add one or change one, removal, and the new command's signing secret and
 * verification token shown once.
 */
export class SlashSettings {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #room: string;
  /** Called after any change, so that completion offers the room's commands as they are now. */
  readonly #changed: () => void;
  readonly #list = h("ul", { class: "slash-commands", "data-testid": "slash-commands" });
  readonly #error = h("p", { class: "error", role: "alert", hidden: true });
  readonly #secrets = h("div", {
    class: "key-reveal",
    "data-testid": "slash-secrets",
    hidden: true,
  });
  readonly #name = field("slash-name", "Name (after the /)", {
    required: true,
    pattern: "[a-z0-9_\\-]{1,32}",
    maxlength: 32,
  });
  readonly #url = field("slash-url", "Request URL", { required: true, type: "url" });
  readonly #description = field("slash-description", "Description", { maxlength: 200 });
  readonly #usageHint = field("slash-usage", "Usage hint", { maxlength: 100 });
  readonly #botName = field("slash-bot", "Posts as (bot name)", { maxlength: 32 });
  readonly #submit = h("button", { type: "submit", "data-testid": "slash-save" }, "Add command");
  /** The command being changed, or undefined when the form adds one. */
  #editing: string | undefined;

  constructor(ctx: AppContext, room: string, actions: { close: () => void; changed: () => void }) {
    this.#ctx = ctx;
    this.#room = room;
    this.#changed = actions.changed;
    const form = h(
      "form",
      {
        class: "slash-form",
        on: { submit: (event) => (event.preventDefault(), void this.#save()) },
      },
      ...[this.#name, this.#url, this.#description, this.#usageHint, this.#botName].map(
        (f) => f.row,
      ),
      h(
        "div",
        { class: "row" },
        this.#submit,
        h("button", { type: "button", on: { click: () => this.#reset() } }, "Clear"),
      ),
    );
    this.el = h(
      "section",
      { class: "slash-settings", "data-testid": "slash-settings", hidden: true },
      h(
        "div",
        { class: "history-head" },
        h("h3", { class: "history-banner" }, `Slash commands of #${room}`),
        h(
          "button",
          { type: "button", "data-testid": "slash-settings-close", on: { click: actions.close } },
          "Back to the room",
        ),
      ),
      h(
        "p",
        { class: "hint" },
        "Each command calls its URL as Slack calls a slash command's Request URL: a signed form " +
          "POST, 3 s to answer. In-channel answers are posted as the command's bot.",
      ),
      this.#error,
      this.#secrets,
      this.#list,
      h("h4", {}, "Add or change a command"),
      form,
    );
  }

  open(): void {
    this.el.hidden = false;
    void this.#load();
  }

  hide(): void {
    this.el.hidden = true;
    this.#secrets.hidden = true;
  }

  async #load(): Promise<void> {
    try {
      const { commands } = await this.#ctx.call((api) => api.slash.custom(this.#room));
      replace(this.#list, ...commands.map((command) => this.#line(command)));
      if (commands.length === 0) replace(this.#list, h("li", { class: "hint" }, "None yet."));
    } catch (error) {
      this.#fail(error);
    }
  }

  #line(command: CustomSlashCommand): HTMLLIElement {
    return h(
      "li",
      { "data-testid": "slash-command", "data-name": command.name },
      h("span", { class: "name mono" }, `/${command.name}`),
      command.usageHint ? h("span", { class: "hint" }, ` ${command.usageHint}`) : null,
      " ",
      h("span", {}, command.description),
      h("div", { class: "hint mono" }, `${command.url}, as ${command.bot.name}`),
      h(
        "div",
        { class: "row" },
        h(
          "button",
          { type: "button", "data-testid": "slash-edit", on: { click: () => this.#edit(command) } },
          "Change",
        ),
        h(
          "button",
          {
            type: "button",
            "data-testid": "slash-remove",
            on: { click: () => void this.#remove(command.name) },
          },
          "Remove",
        ),
      ),
    );
  }

  #edit(command: CustomSlashCommand): void {
    this.#editing = command.name;
    this.#name.input.value = command.name;
    this.#name.input.readOnly = true;
    this.#url.input.value = command.url;
    this.#description.input.value = command.description;
    this.#usageHint.input.value = command.usageHint;
    this.#botName.input.value = command.bot.name === command.name ? "" : command.bot.name;
    this.#submit.textContent = "Save changes";
    this.#url.input.focus();
  }

  #reset(): void {
    this.#editing = undefined;
    for (const f of [this.#name, this.#url, this.#description, this.#usageHint, this.#botName])
      f.input.value = "";
    this.#name.input.readOnly = false;
    this.#submit.textContent = "Add command";
  }

  async #save(): Promise<void> {
    this.#error.hidden = true;
    const room = this.#room;
    const values = {
      url: this.#url.input.value.trim(),
      description: this.#description.input.value.trim(),
      usageHint: this.#usageHint.input.value.trim(),
    };
    const botName = this.#botName.input.value.trim();
    try {
      const editing = this.#editing;
      if (editing !== undefined) {
        await this.#ctx.call((api) =>
          api.slash.update(room, editing, { ...values, botName: botName || null }),
        );
      } else {
        const name = this.#name.input.value.trim();
        const issued = await this.#ctx.call((api) =>
          api.slash.create(room, { name, ...values, ...(botName ? { botName } : {}) }),
        );
        this.#showSecrets(`/${name}`, issued.signingSecret, issued.verificationToken);
      }
      this.#reset();
      this.#changed();
      await this.#load();
    } catch (error) {
      this.#fail(error);
    }
  }

  async #remove(name: string): Promise<void> {
    try {
      await this.#ctx.call((api) => api.slash.remove(this.#room, name));
      this.#changed();
      await this.#load();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** A new command's secrets, this once: its server checks every request with them. */
  #showSecrets(command: string, signingSecret: string, verificationToken: string): void {
    const value = (id: string, text: string) =>
      h("input", { id, class: "mono", readonly: true, value: text, "data-testid": id });
    replace(
      this.#secrets,
      h(
        "p",
        { class: "warning" },
        `Give ${command}'s server these now: they are shown only this once. The signing secret ` +
          "checks X-Slack-Signature; the token is the form's token field.",
      ),
      h(
        "div",
        { class: "row" },
        h("label", { for: "slash-secret" }, "Signing secret"),
        value("slash-secret", signingSecret),
      ),
      h(
        "div",
        { class: "row" },
        h("label", { for: "slash-token" }, "Verification token"),
        value("slash-token", verificationToken),
      ),
      h("button", { type: "button", on: { click: () => (this.#secrets.hidden = true) } }, "Done"),
    );
    this.#secrets.hidden = false;
  }

  #fail(error: unknown): void {
    this.#error.textContent = errorText(error);
    this.#error.hidden = false;
  }
}

/** A labelled input of the form. */
function field(id: string, label: string, attrs: Record<string, string | number | boolean>) {
  const input = h("input", { id, "data-testid": id, autocomplete: "off", ...attrs });
  return { input, row: h("div", { class: "row" }, h("label", { for: id }, label), input) };
}
