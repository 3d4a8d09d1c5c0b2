import { ApiError, EdgechatApi, Password, Username, type Session } from "../client/index.ts";
import { errorText, type View } from "./context.ts";
import { h } from "./dom.ts";

type Mode = "login" | "register";

/** Sign in, create an account, or continue as a guest. */
export function signInScreen(baseUrl: string, signedIn: (session: Session) => void): View {
  const api = new EdgechatApi(baseUrl);
  const timers = new Set<ReturnType<typeof setInterval>>();
  let mode: Mode = "login";

  // ---- account: sign in or register ----
  const title = h("h2", { id: "account-title" }, "Sign in");
  const username = h("input", {
    id: "account-username",
    name: "username",
    required: true,
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    "data-testid": "account-username",
  });
  const password = h("input", {
    id: "account-password",
    name: "password",
    type: "password",
    required: true,
    minlength: 8,
    autocomplete: "current-password",
    "data-testid": "account-password",
  });
  const passwordHint = h(
    "p",
    { class: "hint", id: "password-hint", hidden: true },
    "At least 8 characters.",
  );
  password.setAttribute("aria-describedby", "password-hint");
  const submit = h("button", { type: "submit", "data-testid": "account-submit" }, "Sign in");
  const accountError = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "account-error",
    hidden: true,
  });
  const loginTab = h(
    "button",
    {
      type: "button",
      "aria-pressed": "true",
      "data-testid": "mode-login",
      on: { click: () => setMode("login") },
    },
    "Sign in",
  );
  const registerTab = h(
    "button",
    {
      type: "button",
      "aria-pressed": "false",
      "data-testid": "mode-register",
      on: { click: () => setMode("register") },
    },
    "Create an account",
  );

  function setMode(next: Mode): void {
    mode = next;
    const register = mode === "register";
    loginTab.setAttribute("aria-pressed", String(!register));
    registerTab.setAttribute("aria-pressed", String(register));
    title.textContent = register ? "Create an account" : "Sign in";
    submit.textContent = register ? "Create account" : "Sign in";
    password.autocomplete = register ? "new-password" : "current-password";
    passwordHint.hidden = !register;
    accountError.hidden = true;
    username.focus();
  }

  const fail = (el: HTMLElement, text: string) => {
    el.textContent = text;
    el.hidden = false;
  };

  /** After a 429: the button waits out Retry-After, counting down. */
  function holdOff(button: HTMLButtonElement, seconds: number, label: string): void {
    let left = Math.ceil(seconds);
    button.disabled = true;
    button.textContent = `Wait ${left} s`;
    const timer = setInterval(() => {
      left -= 1;
      if (left > 0) return void (button.textContent = `Wait ${left} s`);
      clearInterval(timer);
      timers.delete(timer);
      button.disabled = false;
      button.textContent = label;
    }, 1000);
    timers.add(timer);
  }

  const accountForm = h(
    "form",
    {
      class: "card account-form",
      novalidate: true,
      "aria-labelledby": "account-title",
      on: {
        submit: async (event) => {
          event.preventDefault();
          accountError.hidden = true;
          const name = username.value.trim();
          if (!Username.safeParse(name).success)
            return fail(accountError, "A username is 3 to 32 letters, digits, _, . or -.");
          const checked = Password.safeParse(password.value);
          if (!checked.success)
            return fail(accountError, checked.error.issues[0]?.message ?? "invalid password");
          const label = submit.textContent ?? "";
          submit.disabled = true;
          let waiting = false;
          try {
            signedIn(
              mode === "register"
                ? await api.register(name, password.value)
                : await api.login(name, password.value),
            );
          } catch (e) {
            fail(accountError, errorText(e));
            if (e instanceof ApiError && e.status === 429 && e.retryAfter) {
              waiting = true;
              holdOff(submit, e.retryAfter, label);
            }
          } finally {
            if (!waiting) submit.disabled = false;
          }
        },
      },
    },
    title,
    h("div", { class: "tabs", role: "group", "aria-label": "Account" }, loginTab, registerTab),
    h("label", { for: "account-username" }, "Username"),
    username,
    h("label", { for: "account-password" }, "Password"),
    password,
    passwordHint,
    h("div", { class: "row" }, submit),
    accountError,
  );

  // ---- guest ----
  const input = h("input", {
    id: "name",
    name: "name",
    required: true,
    autocomplete: "nickname",
    pattern: "[A-Za-z0-9_.\\-]{3,32}",
    "data-testid": "name",
  });
  const error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "name-error",
    hidden: true,
  });
  const button = h("button", { type: "submit", "data-testid": "sign-in" }, "Join");
  const guestForm = h(
    "form",
    {
      class: "card name-form",
      novalidate: true,
      "aria-labelledby": "guest-title",
      on: {
        submit: async (event) => {
          event.preventDefault();
          const name = input.value.trim();
          if (!Username.safeParse(name).success)
            return fail(error, "A name is 3 to 32 letters, digits, _, . or -.");
          button.disabled = true;
          try {
            signedIn(await api.signInGuest(name));
          } catch (e) {
            fail(error, errorText(e));
          } finally {
            button.disabled = false;
          }
        },
      },
    },
    h("h2", { id: "guest-title" }, "Continue as a guest"),
    h("label", { for: "name" }, "Pick a name"),
    h("div", { class: "row" }, input, button),
    h(
      "p",
      { class: "hint" },
      "3 to 32 letters, digits, _, . or -. Guests stay signed in for 24 hours and cannot create private rooms.",
    ),
    error,
  );
  queueMicrotask(() => username.focus());
  return {
    el: h("main", { class: "screen sign-in" }, accountForm, guestForm),
    dispose() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
