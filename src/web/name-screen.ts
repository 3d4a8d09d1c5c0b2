import { EdgechatApi, Username, type Session } from "../client/index.ts";
import { errorText, type View } from "./context.ts";
import { h } from "./dom.ts";

/** Pick a name and sign in as a guest. */
export function nameScreen(baseUrl: string, signedIn: (session: Session) => void): View {
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
  const fail = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };
  const form = h(
    "form",
    {
      class: "card name-form",
      novalidate: true,
      on: {
        submit: async (event) => {
          event.preventDefault();
          const name = input.value.trim();
          if (!Username.safeParse(name).success)
            return fail("A name is 3 to 32 letters, digits, _, . or -.");
          button.disabled = true;
          try {
            signedIn(await new EdgechatApi(baseUrl).signInGuest(name));
          } catch (e) {
            fail(errorText(e));
          } finally {
            button.disabled = false;
          }
        },
      },
    },
    h("h2", {}, "Pick a name"),
    h("label", { for: "name" }, "Your name"),
    h("div", { class: "row" }, input, button),
    h(
      "p",
      { class: "hint" },
      "3 to 32 letters, digits, _, . or -. You join as a guest for 24 hours.",
    ),
    error,
  );
  queueMicrotask(() => input.focus());
  return { el: h("main", { class: "screen" }, form), dispose() {} };
}
