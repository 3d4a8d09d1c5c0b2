import {
  roleRank,
  type Member,
  type Role,
  type RoomEvent,
  type ServerFrameOf,
  type UserRef,
} from "../client/index.ts";
import { errorText } from "./context.ts";
import { h, replace } from "./dom.ts";

/** A moderation command as the panel asks for it; the chat view adds the clientId and sends it. */
export type PanelCommand =
  | { type: "role"; userId: string; role: "moderator" | "member" }
  | { type: "kick" | "ban" | "unban" | "unmute" | "transfer"; userId: string }
  | { type: "mute"; userId: string; seconds: number };

export type PanelActions = {
  you: () => string | undefined;
  send: (command: PanelCommand) => Promise<unknown>;
  invite: (username: string, role: "member" | "moderator") => Promise<unknown>;
  /** Your role changed (or became known): the view shows or hides its moderation controls. */
  roleChanged: (role: Role | undefined) => void;
};

type Person = { id: string; name: string; role: Role | undefined; mutedUntil: number };

const MUTE_SECONDS = 10 * 60;

/**
 * Everyone in the room: members with their role badges and an online dot (and anyone online
 * who is not a member), kept live from the member events and presence frames. Owners and
 * moderators (and instance admins, in every room) get per-person actions as the rules allow,
 * an invite form and, for the bans seen here, an unban.
 */
export class MemberPanel {
  readonly el: HTMLElement;
  readonly #heading = h("h3", {}, "People");
  readonly #list = h("ul", { class: "people-list", "data-testid": "members" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "members-error",
    hidden: true,
  });
  readonly #banned = h("div", { class: "banned" });
  readonly #invite: HTMLFormElement;
  readonly #inviteRole: HTMLSelectElement;
  readonly #actions: PanelActions;
  #people = new Map<string, Person>();
  #online = new Map<string, string>();
  #bans = new Map<string, string>();
  #myRole: Role | undefined;
  #admin = false;
  #openMenu: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(actions: PanelActions) {
    this.#actions = actions;
    const name = h("input", {
      id: "invite-name",
      required: true,
      autocomplete: "off",
      autocapitalize: "none",
      "data-testid": "invite-name",
    });
    this.#inviteRole = h(
      "select",
      { id: "invite-role", "data-testid": "invite-role", "aria-label": "Role" },
      h("option", { value: "member" }, "member"),
      h("option", { value: "moderator" }, "moderator"),
    );
    const status = h("p", { class: "hint", role: "status", "data-testid": "invite-status" });
    const submit = h("button", { type: "submit", "data-testid": "invite-submit" }, "Invite");
    this.#invite = h(
      "form",
      {
        class: "invite",
        novalidate: true,
        hidden: true,
        on: {
          submit: async (event) => {
            event.preventDefault();
            const username = name.value.trim();
            if (!username) return;
            submit.disabled = true;
            status.classList.remove("error");
            try {
              await actions.invite(
                username,
                this.#inviteRole.value === "moderator" ? "moderator" : "member",
              );
              status.textContent = `Invited ${username}.`;
              name.value = "";
            } catch (error) {
              status.classList.add("error");
              status.textContent = errorText(error);
            } finally {
              submit.disabled = false;
            }
          },
        },
      },
      h("label", { for: "invite-name" }, "Invite by username"),
      h("div", { class: "row" }, name, this.#inviteRole, submit),
      status,
    );
    this.el = h(
      "aside",
      { class: "online people", "aria-labelledby": "people-title" },
      this.#heading,
      this.#error,
      this.#list,
      this.#banned,
      this.#invite,
    );
    this.#heading.id = "people-title";
  }

  get myRole(): Role | undefined {
    return this.#myRole;
  }

  get admin(): boolean {
    return this.#admin;
  }

  /** You are an instance admin: the owner's controls, whatever your role here. */
  setAdmin(admin: boolean): void {
    if (admin === this.#admin) return;
    this.#admin = admin;
    this.#render();
  }

  /** Your say here: an admin's, else your role's. */
  get #myRank(): number {
    return roleRank(this.#myRole, this.#admin);
  }

  /** The members as the server lists them (on open and after every reconnect). */
  setMembers(members: readonly Member[]): void {
    this.#people = new Map(
      members.map((m) => [
        m.id,
        { id: m.id, name: m.name, role: m.role, mutedUntil: m.mutedUntil ?? 0 },
      ]),
    );
    this.#render();
  }

  resetOnline(users: readonly UserRef[]): void {
    this.#online = new Map(users.map((u) => [u.id, u.name]));
    this.#render();
  }

  presence(frame: ServerFrameOf<"presence">): void {
    if (frame.joined) this.#online.set(frame.joined.id, frame.joined.name);
    if (frame.left) this.#online.delete(frame.left.id);
    this.#render();
  }

  nameOf(userId: string): string {
    return (
      this.#people.get(userId)?.name ??
      this.#online.get(userId) ??
      this.#bans.get(userId) ??
      "someone"
    );
  }

  /** Applies a member event; true when it was one. */
  apply(event: RoomEvent): boolean {
    const person = (id: string) => this.#people.get(id);
    switch (event.type) {
      case "member.joined":
        if (!this.#people.has(event.actor.id))
          this.#people.set(event.actor.id, { ...event.actor, role: "member", mutedUntil: 0 });
        break;
      case "member.invited":
        this.#people.set(event.data.user.id, {
          ...event.data.user,
          role: event.data.role,
          mutedUntil: 0,
        });
        break;
      case "member.left":
        this.#people.delete(event.actor.id);
        break;
      case "member.kicked":
        this.#people.delete(event.data.userId);
        break;
      case "member.banned":
        this.#bans.set(event.data.userId, this.nameOf(event.data.userId));
        this.#people.delete(event.data.userId);
        break;
      case "member.unbanned":
        this.#bans.delete(event.data.userId);
        break;
      case "member.role_changed": {
        const p = person(event.data.userId);
        if (p) p.role = event.data.role;
        break;
      }
      case "member.muted": {
        const p = person(event.data.userId);
        if (p) p.mutedUntil = event.data.until;
        break;
      }
      case "member.unmuted": {
        const p = person(event.data.userId);
        if (p) p.mutedUntil = 0;
        break;
      }
      case "room.ownership_transferred":
        for (const p of this.#people.values()) if (p.role === "owner") p.role = "moderator";
        if (person(event.data.userId)) person(event.data.userId)!.role = "owner";
        break;
      default:
        return false;
    }
    this.#render();
    return true;
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }

  #render(): void {
    const you = this.#actions.you();
    const mine = you ? this.#people.get(you)?.role : undefined;
    if (mine !== this.#myRole) {
      this.#myRole = mine;
      this.#actions.roleChanged(mine);
    }
    const now = Date.now();
    const everyone = new Map(this.#people);
    for (const [id, name] of this.#online)
      if (!everyone.has(id)) everyone.set(id, { id, name, role: undefined, mutedUntil: 0 });
    const sorted = [...everyone.values()].sort(
      (a, b) =>
        roleRank(b.role) - roleRank(a.role) ||
        Number(this.#online.has(b.id)) - Number(this.#online.has(a.id)) ||
        a.name.localeCompare(b.name),
    );
    const online = sorted.filter((p) => this.#online.has(p.id)).length;
    this.#heading.textContent = `People (${everyone.size}) · ${online} online`;
    replace(this.#list, ...sorted.map((p) => this.#line(p, you, now)));

    const moderator = this.#myRank >= 1;
    const ownerLike = this.#myRank >= 2;
    this.#invite.hidden = !moderator;
    (this.#inviteRole.querySelector("option[value=moderator]") as HTMLOptionElement).disabled =
      !ownerLike;
    if (!ownerLike) this.#inviteRole.value = "member";
    replace(
      this.#banned,
      ...(moderator && this.#bans.size
        ? [
            h("h4", {}, "Banned"),
            h(
              "ul",
              { "data-testid": "banned" },
              ...[...this.#bans].map(([id, name]) =>
                h(
                  "li",
                  { "data-user": id },
                  name,
                  " ",
                  h(
                    "button",
                    {
                      type: "button",
                      "data-testid": "act-unban",
                      on: { click: () => this.#run({ type: "unban", userId: id }) },
                    },
                    "Unban",
                  ),
                ),
              ),
            ),
          ]
        : []),
    );
    // Mutes end by themselves: draw again when the next one does.
    clearTimeout(this.#timer);
    const next = Math.min(
      ...[...this.#people.values()].map((p) => p.mutedUntil).filter((t) => t > now),
    );
    if (Number.isFinite(next)) this.#timer = setTimeout(() => this.#render(), next - now + 50);
  }

  #line(p: Person, you: string | undefined, now: number): HTMLLIElement {
    const isOnline = this.#online.has(p.id);
    const muted = p.mutedUntil > now;
    const li = h(
      "li",
      {
        "data-user": p.id,
        "data-name": p.name,
        "data-role": p.role ?? "",
        "data-online": String(isOnline),
      },
      h("span", {
        class: isOnline ? "dot on" : "dot",
        role: "img",
        "aria-label": isOnline ? "online" : "offline",
      }),
      h("span", { class: "member-name", "data-testid": "member-name" }, p.name),
      p.id === you ? h("span", { class: "you" }, " (you)") : null,
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
    const menu = this.#menu(p, you, muted);
    if (menu) li.append(menu);
    return li;
  }

  /** The actions you may take on `p`: the rules of src/room/decide.ts, so nothing offered is refused. */
  #menu(p: Person, you: string | undefined, muted: boolean): HTMLElement | null {
    const mine = this.#myRank;
    if (p.id === you || mine < 1 || !p.role || p.role === "owner") return null;
    const buttons: HTMLButtonElement[] = [];
    const add = (testid: string, label: string, command: PanelCommand) =>
      buttons.push(
        h(
          "button",
          { type: "button", "data-testid": testid, on: { click: () => this.#run(command) } },
          label,
        ),
      );
    if (mine >= 2) {
      if (p.role === "member")
        add("act-promote", "Make moderator", { type: "role", userId: p.id, role: "moderator" });
      else add("act-demote", "Make member", { type: "role", userId: p.id, role: "member" });
    }
    if (roleRank(p.role) < mine) {
      if (muted) add("act-unmute", "Unmute", { type: "unmute", userId: p.id });
      else add("act-mute", "Mute 10 min", { type: "mute", userId: p.id, seconds: MUTE_SECONDS });
      add("act-kick", "Remove from room", { type: "kick", userId: p.id });
      add("act-ban", "Ban", { type: "ban", userId: p.id });
    }
    if (mine >= 2) add("act-transfer", "Make owner", { type: "transfer", userId: p.id });
    if (!buttons.length) return null;
    const details = h(
      "details",
      { class: "member-menu", open: this.#openMenu === p.id },
      h("summary", { "aria-label": `Actions for ${p.name}`, "data-testid": "member-actions" }, "⋯"),
      h("div", { class: "menu-buttons" }, ...buttons),
    );
    details.addEventListener("toggle", () => {
      if (details.open) this.#openMenu = p.id;
      else if (this.#openMenu === p.id) this.#openMenu = undefined;
    });
    details.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        details.open = false;
        details.querySelector("summary")?.focus();
      }
    });
    return details;
  }

  #run(command: PanelCommand): void {
    this.#error.hidden = true;
    this.#openMenu = undefined;
    this.#actions.send(command).catch((error: unknown) => {
      this.#error.textContent = errorText(error);
      this.#error.hidden = false;
    });
  }
}
