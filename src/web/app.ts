import { EdgechatApi, type Session } from "../client/index.ts";
import { chatView } from "./chat-view.ts";
import type { AppContext, View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { nameScreen } from "./name-screen.ts";
import { roomList } from "./room-list.ts";
import { currentRoute } from "./route.ts";
import { clearSession, loadSession, saveSession } from "./session.ts";

/** The entry point: the signed-in guest and the URL hash decide which screen shows. */
const baseUrl = location.origin;
const root = document.getElementById("app")!;
const who = h("div", { class: "who" });
const outlet = h("div", { class: "outlet" });
replace(
  root,
  h("header", { class: "top" }, h("h1", {}, h("a", { href: "#/" }, "edgechat")), who),
  outlet,
);

let session = loadSession();
let view: View | undefined;

function show(next: View): void {
  view?.dispose();
  view = next;
  replace(outlet, next.el);
}

function signOut(): void {
  session = clearSession();
  render();
}

function render(): void {
  if (!session) {
    replace(who);
    show(
      nameScreen(baseUrl, (signedIn: Session) => {
        saveSession(signedIn);
        session = signedIn;
        render();
      }),
    );
    return;
  }
  replace(
    who,
    h("span", { "data-testid": "me" }, session.user.name),
    " ",
    h(
      "button",
      { type: "button", class: "link", "data-testid": "sign-out", on: { click: signOut } },
      "Sign out",
    ),
  );
  const ctx: AppContext = {
    api: new EdgechatApi(baseUrl, session.token),
    session,
    baseUrl,
    signOut,
  };
  const route = currentRoute();
  show(route.view === "room" ? chatView(ctx, route.room) : roomList(ctx));
  document.title = route.view === "room" ? `#${route.room} · edgechat` : "edgechat";
}

window.addEventListener("hashchange", render);
render();
