import { can, type Standing } from "../client/index.ts";
import type { InviteRole } from "./commands.ts";
import { errorText } from "./context.ts";
import { h } from "./dom.ts";

/**
 * "Invite by username", for those who may invite; only those who may name moderators get the
 * moderator choice. The outcome (or the server's refusal) shows below it.
 */
export function inviteForm(invite: (username: string, role: InviteRole) => Promise<unknown>) {
  const name = h("input", {
    id: "invite-name",
    required: true,
    autocomplete: "off",
    autocapitalize: "none",
    "data-testid": "invite-name",
  });
  const moderator = h("option", { value: "moderator" }, "moderator");
  const role = h(
    "select",
    { id: "invite-role", "data-testid": "invite-role", "aria-label": "Role" },
    h("option", { value: "member" }, "member"),
    moderator,
  );
  const status = h("p", { class: "hint", role: "status", "data-testid": "invite-status" });
  const submit = h("button", { type: "submit", "data-testid": "invite-submit" }, "Invite");
  const el = h(
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
            await invite(username, role.value === "moderator" ? "moderator" : "member");
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
    h("div", { class: "row" }, name, role, submit),
    status,
  );
  return {
    el,
    /** Shows the form, and its moderator choice, as far as `you` may use them. */
    setStanding(you: Standing): void {
      el.hidden = !can(you, "invite");
      moderator.disabled = !can(you, "invite_moderator");
      if (moderator.disabled) role.value = "member";
    },
  };
}
