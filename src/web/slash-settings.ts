import type { CustomSlashCommand } from "../client/index.ts";
import { errorText, type AppContext } from "./context.ts";
import { h, replace } from "./dom.ts";
import { secretReveal } from "./secret-reveal.ts";

/**
 * The room owner's custom slash commands (docs/integrations.md, "Slash commands"), a part of the
 * room's Integrations panel: the list, a form to add one or change one, removal, and a new
 * command's signing secret and verification token, each shown once.
 */
export class SlashSettings {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #room: string;
  readonly #list = h("ul", { class: "slash-commands", "data-testid": "slash-commands" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "slash-error",
    hidden: true,
  });
  readonly #secret = secretReveal({
    name: "slash-secret",
    label: "Signing secret",
    testid: "slash-secret-reveal",
  });
  readonly #token = secretReveal({
    name: "slash-token",
    label: "Verification token",
    testid: "slash-token-reveal",
  });
  readonly #name = field("slash-name", "Name, after the /", {
    required: true,
    pattern: "[a-z0-9_\\-]{1,32}",
    maxlength: 32,
  });
  readonly #url = field("slash-url", "Request URL", { required: true, type: "url" });
  readonly #description = field("slash-description", "Description", { maxlength: 200 });
  readonly #usageHint = field("slash-usage", "Usage hint", { maxlength: 100 });
  readonly #botName = field("slash-bot", "Answers as (bot name)", { maxlength: 32 });
  readonly #submit = h("button", { type: "submit", "data-testid": "slash-save" }, "Add command");
  /** The command being changed, or undefined when the form adds one. */
  #editing: string | undefined;

  constructor(ctx: AppContext, room: string) {
    this.#ctx = ctx;
    this.#room = room;
    const fields = [this.#name, this.#url, this.#description, this.#usageHint, this.#botName];
    const form = h(
      "form",
      {
        class: "slash-form",
        on: {
          submit: (event) => {
            event.preventDefault();
            void this.#save();
          },
        },
      },
      ...fields.map((f) => f.row),
      h(
        "div",
        { class: "row" },
        this.#submit,
        h("button", { type: "button", on: { click: () => this.#reset() } }, "Clear"),
      ),
    );
    this.el = h(
      "section",
      {
        class: "card slash-settings",
        "aria-labelledby": "slash-title",
        "data-testid": "slash-settings",
      },
      h("h3", { id: "slash-title" }, "Slash commands"),
      h(
        "p",
        { class: "hint" },
        "A command calls its URL as Slack calls a slash command's Request URL: a signed form " +
          "POST, 3 s to answer. Answers for everyone are posted as the command's bot.",
      ),
      this.#secret.el,
      this.#token.el,
      this.#error,
      this.#list,
      h("h4", {}, "Add or change a command"),
      form,
    );
    void this.#load();
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
    const button = (testid: string, label: string, click: () => void) =>
      h("button", { type: "button", "data-testid": testid, on: { click } }, label);
    return h(
      "li",
      { "data-testid": "slash-command", "data-name": command.name },
      h("span", { class: "name mono" }, `/${command.name}`),
      command.usageHint ? h("span", { class: "hint" }, ` ${command.usageHint}`) : null,
      " ",
      h("span", {}, command.description),
      h("div", { class: "hint mono" }, `${command.url}, answering as ${command.bot.name}`),
      h(
        "div",
        { class: "row" },
        button("slash-edit", "Change", () => this.#edit(command)),
        button("slash-remove", "Remove", () => void this.#remove(command.name)),
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
      await this.#load();
    } catch (error) {
      this.#fail(error);
    }
  }

  async #remove(name: string): Promise<void> {
    try {
      await this.#ctx.call((api) => api.slash.remove(this.#room, name));
      await this.#load();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** A new command's secrets, this once: its server checks every request with them. */
  #showSecrets(command: string, signingSecret: string, verificationToken: string): void {
    const once = "It is shown only this once.";
    this.#token.show(
      verificationToken,
      `${command}'s verification token, the form's token field:`,
      `${once} Slack's older check; the signature is the one to verify.`,
    );
    this.#secret.show(
      signingSecret,
      `${command} is added. Its signing secret, which keys X-Slack-Signature:`,
      `${once} Anyone who has it can send ${command}'s server requests that pass as ours.`,
    );
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
