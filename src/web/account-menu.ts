import { Password } from "../client/index.ts";
import { errorText, type AppContext, type View } from "./context.ts";
import { h } from "./dom.ts";
import { BOTS_HREF } from "./route.ts";

/**
 * The header's corner: who is signed in ("(guest)" for guests), sign out, and for registered
 * users a small menu: their bots (`#/bots`), change the password, delete the account.
 */
export function accountMenu(ctx: AppContext): View {
  const { user } = ctx.session;
  const guest = user.kind !== "user";
  const signOut = h(
    "button",
    {
      type: "button",
      class: "link",
      "data-testid": "sign-out",
      on: {
        click: () => {
          signOut.disabled = true;
          void ctx.auth.signOut();
        },
      },
    },
    "Sign out",
  );
  const name = h("span", { "data-testid": "me" }, user.name);
  const marker = guest
    ? h("span", { class: "kind", "data-testid": "guest-marker" }, " (guest)")
    : null;
  if (guest) {
    return { el: h("div", { class: "who-inner" }, name, marker, " ", signOut), dispose() {} };
  }

  const menu = h(
    "details",
    { class: "account-menu" },
    h("summary", { "data-testid": "account-menu" }, "Account"),
    h(
      "div",
      { class: "menu-panel card" },
      h("a", { href: BOTS_HREF, class: "menu-link", "data-testid": "bots-link" }, "Your bots"),
      passwordForm(ctx),
      deleteForm(ctx),
    ),
  );
  const closeOnEscape = (event: KeyboardEvent) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary")?.focus();
    }
  };
  menu.addEventListener("keydown", closeOnEscape);
  return { el: h("div", { class: "who-inner" }, name, " ", menu, " ", signOut), dispose() {} };
}

function passwordField(
  id: string,
  label: string,
  autocomplete: string,
): [HTMLLabelElement, HTMLInputElement] {
  return [
    h("label", { for: id }, label),
    h("input", {
      id,
      type: "password",
      required: true,
      minlength: 8,
      autocomplete,
      "data-testid": id,
    }),
  ];
}

function passwordForm(ctx: AppContext): HTMLFormElement {
  const [currentLabel, current] = passwordField(
    "pw-current",
    "Current password",
    "current-password",
  );
  const [nextLabel, next] = passwordField("pw-new", "New password", "new-password");
  const status = h("p", { role: "status", "data-testid": "pw-status", class: "hint" });
  const submit = h("button", { type: "submit", "data-testid": "pw-submit" }, "Change password");
  return h(
    "form",
    {
      class: "menu-form",
      novalidate: true,
      on: {
        submit: async (event) => {
          event.preventDefault();
          status.classList.remove("error");
          const checked = Password.safeParse(next.value);
          if (!checked.success) {
            status.classList.add("error");
            status.textContent = `New password: ${checked.error.issues[0]?.message ?? "invalid"}`;
            return;
          }
          submit.disabled = true;
          try {
            // Not ctx.call: a wrong current password is a 401 too, and must not sign you out.
            const session = await ctx.auth.api.changePassword(current.value, next.value);
            current.value = next.value = "";
            status.textContent = "Password changed. Your other sessions were signed out.";
            ctx.auth.adopt(session); // open sockets close (4401) and reconnect with it
          } catch (error) {
            status.classList.add("error");
            status.textContent = errorText(error);
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h("h3", {}, "Change password"),
    currentLabel,
    current,
    nextLabel,
    next,
    h("div", { class: "row" }, submit),
    status,
  );
}

function deleteForm(ctx: AppContext): HTMLFormElement {
  const [label, password] = passwordField("delete-password", "Password", "current-password");
  const confirm = h("input", {
    id: "delete-confirm",
    type: "checkbox",
    "data-testid": "delete-confirm",
  });
  const status = h("p", { role: "alert", class: "error", hidden: true });
  const submit = h(
    "button",
    { type: "submit", class: "danger", "data-testid": "delete-account" },
    "Delete my account",
  );
  return h(
    "form",
    {
      class: "menu-form",
      novalidate: true,
      on: {
        submit: async (event) => {
          event.preventDefault();
          status.hidden = true;
          if (!confirm.checked) {
            status.textContent = "Tick the box to confirm: this cannot be undone.";
            status.hidden = false;
            return;
          }
          submit.disabled = true;
          try {
            await ctx.auth.api.deleteAccount(password.value); // a wrong password is a 401: not ctx.call
            ctx.auth.expire();
          } catch (error) {
            status.textContent = errorText(error);
            status.hidden = false;
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h("h3", {}, "Delete account"),
    label,
    password,
    h(
      "div",
      { class: "row check" },
      confirm,
      h("label", { for: "delete-confirm" }, "I understand my account is gone for good"),
    ),
    h("div", { class: "row" }, submit),
    status,
  );
}
