import type { InviteRole, MemberCommand } from "./commands.ts";
import { errorText } from "./context.ts";
import { h, replace } from "./dom.ts";
import { serviceBadge } from "./service-badge.ts";
import { inviteForm } from "./invite-form.ts";
import {
  liftableBans,
  nextMuteEnd,
  peopleLines,
  standing,
  type MembersState,
  type PersonLine,
} from "./members-state.ts";

export type PanelActions = {
  send: (command: MemberCommand) => Promise<unknown>;
  invite: (username: string, role: InviteRole) => Promise<unknown>;
};

/** Each menu command's button: its test id and its label. */
function button(command: MemberCommand): [testid: string, label: string] {
  switch (command.type) {
    case "role":
      return command.role === "moderator"
        ? ["act-promote", "Make moderator"]
        : ["act-demote", "Make member"];
    case "mute":
      return ["act-mute", "Mute 10 min"];
    case "unmute":
      return ["act-unmute", "Unmute"];
    case "kick":
      return ["act-kick", "Remove from room"];
    case "ban":
      return ["act-ban", "Ban"];
    case "unban":
      return ["act-unban", "Unban"];
    case "transfer":
      return ["act-transfer", "Make owner"];
  }
}

/**
 * Everyone in the room, drawn from the members state: role badges, an online dot, a menu of
 * what you may do to each person, the bans you may lift and the invite form.
 */
export class MemberPanel {
  readonly el: HTMLElement;
  readonly #heading = h("h3", { id: "people-title" }, "People");
  readonly #list = h("ul", { class: "people-list", "data-testid": "members" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "members-error",
    hidden: true,
  });
  readonly #banned = h("div", { class: "banned" });
  readonly #invite: ReturnType<typeof inviteForm>;
  readonly #actions: PanelActions;
  #state: MembersState | undefined;
  /** The person whose menu is open: drawing the list again keeps it open. */
  #openMenu: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(actions: PanelActions) {
    this.#actions = actions;
    this.#invite = inviteForm(actions.invite);
    this.el = h(
      "aside",
      { class: "online people", "aria-labelledby": "people-title" },
      this.#heading,
      this.#error,
      this.#list,
      this.#banned,
      this.#invite.el,
    );
  }

  render(state: MembersState): void {
    this.#state = state;
    const now = Date.now();
    const lines = peopleLines(state, now);
    const online = lines.filter((line) => line.online).length;
    this.#heading.textContent = `People (${lines.length}) · ${online} online`;
    replace(this.#list, ...lines.map((line) => this.#line(line)));
    this.#invite.setStanding(standing(state));
    const bans = liftableBans(state);
    replace(
      this.#banned,
      ...(bans.length
        ? [
            h("h4", {}, "Banned"),
            h(
              "ul",
              { "data-testid": "banned" },
              ...bans.map(({ id, name }) =>
                h(
                  "li",
                  { "data-user": id },
                  name,
                  serviceBadge(id),
                  " ",
                  this.#button({ type: "unban", userId: id }),
                ),
              ),
            ),
          ]
        : []),
    );
    // Mutes end by themselves: draw again when the next one does.
    clearTimeout(this.#timer);
    const next = nextMuteEnd(state, now);
    if (next !== undefined) this.#timer = setTimeout(() => this.#redraw(), next - now + 50);
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }

  #redraw(): void {
    if (this.#state) this.render(this.#state);
  }

  #line({ person: p, online, you, muted, menu }: PersonLine): HTMLLIElement {
    const li = h(
      "li",
      {
        "data-user": p.id,
        "data-name": p.name,
        "data-role": p.role ?? "",
        "data-online": String(online),
      },
      h("span", {
        class: online ? "dot on" : "dot",
        role: "img",
        "aria-label": online ? "online" : "offline",
      }),
      h("span", { class: "member-name", "data-testid": "member-name" }, p.name),
      you ? h("span", { class: "you" }, " (you)") : null,
      serviceBadge(p.id),
      p.role && p.role !== "member"
        ? h("span", { class: `badge ${p.role}`, "data-testid": "role" }, p.role)
        : null,
      muted
        ? h(
            "span",
            { class: "badge muted", title: `until ${new Date(p.mutedUntil).toLocaleTimeString()}` },
            "muted",
          )
        : null,
    );
    if (menu.length) li.append(this.#menu(p.id, p.name, menu));
    return li;
  }

  #menu(id: string, name: string, menu: readonly MemberCommand[]): HTMLElement {
    const details = h(
      "details",
      { class: "member-menu", open: this.#openMenu === id },
      h("summary", { "aria-label": `Actions for ${name}`, "data-testid": "member-actions" }, "⋯"),
      h("div", { class: "menu-buttons" }, ...menu.map((command) => this.#button(command))),
    );
    details.addEventListener("toggle", () => {
      if (details.open) this.#openMenu = id;
      else if (this.#openMenu === id) this.#openMenu = undefined;
    });
    details.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        details.open = false;
        details.querySelector("summary")?.focus();
      }
    });
    return details;
  }

  #button(command: MemberCommand): HTMLButtonElement {
    const [testid, label] = button(command);
    return h(
      "button",
      { type: "button", "data-testid": testid, on: { click: () => this.#run(command) } },
      label,
    );
  }

  #run(command: MemberCommand): void {
    this.#error.hidden = true;
    this.#openMenu = undefined;
    this.#actions.send(command).catch((error: unknown) => {
      this.#error.textContent = errorText(error);
      this.#error.hidden = false;
    });
  }
}
