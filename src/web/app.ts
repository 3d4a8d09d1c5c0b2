import { accountMenu } from "./account-menu.ts";
import { chatView } from "./chat-view.ts";
import type { AppContext, View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { currentRoute } from "./route.ts";
import { Auth } from "./session.ts";
import { signInScreen } from "./sign-in.ts";
import { roomList } from "./room-list.ts";

/** The entry point: the session and the URL hash decide which screen shows. */
const baseUrl = location.origin;
const root = document.getElementById("app")!;
const who = h("div", { class: "who" });
const outlet = h("div", { class: "outlet" });
replace(
  root,
  h("header", { class: "top" }, h("h1", {}, h("a", { href: "#/" }, "edgechat")), who),
  outlet,
);

const auth = new Auth(baseUrl, () => render());
let view: View | undefined;
let menu: View | undefined;

function show(next: View): void {
  view?.dispose();
  view = next;
  replace(outlet, next.el);
}

function render(): void {
  menu?.dispose();
  menu = undefined;
  const session = auth.session;
  if (!session) {
    replace(who);
    document.title = "Sign in · edgechat";
    show(signInScreen(baseUrl, (signedIn) => auth.signedIn(signedIn)));
    return;
  }
  const ctx: AppContext = {
    auth,
    session,
    baseUrl,
    call: (run) => auth.call(run),
    rerender: render,
  };
  menu = accountMenu(ctx);
  replace(who, menu.el);
  const route = currentRoute();
  show(route.view === "room" ? chatView(ctx, route.room) : roomList(ctx));
  document.title = route.view === "room" ? `#${route.room} · edgechat` : "edgechat";
}

async function start(): Promise<void> {
  // A registered user's access token lasts 15 minutes: renew it from the refresh cookie first.
  if (auth.isUser) {
    replace(outlet, h("p", { class: "screen hint", role: "status" }, "Signing you in…"));
    await auth.renew(auth.session?.token);
  }
  window.addEventListener("hashchange", render);
  render();
}

void start();
