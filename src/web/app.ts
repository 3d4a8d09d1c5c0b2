import "./zod-jitless.ts";
import { accountMenu } from "./account-menu.ts";
import { botsPage } from "./bots.ts";
import { dashboard } from "./admin/dashboard.ts";
import { chatView } from "./chat-view.ts";
import type { AppContext, View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { currentRoute, searchHref } from "./route.ts";
import { searchView } from "./search-view.ts";
import { Auth } from "./session.ts";
import { signInScreen } from "./sign-in.ts";
import { roomList } from "./room-list.ts";

/** The entry point: the session and the URL hash decide which screen shows. */
const baseUrl = location.origin;
const root = document.getElementById("app")!;
const who = h("div", { class: "who" });
const outlet = h("div", { class: "outlet" });
const adminLink = h(
  "a",
  { href: "#/admin", class: "admin-link", "data-testid": "admin-link", hidden: true },
  "Admin",
);
const searchInput = h("input", {
  id: "search-q",
  type: "search",
  name: "q",
  maxlength: 200,
  autocomplete: "off",
  placeholder: "Search messages",
  "aria-label": "Search messages",
  "data-testid": "search-input",
});
const searchForm = h(
  "form",
  {
    class: "search-form",
    role: "search",
    hidden: true,
    on: {
      submit: (event) => {
        event.preventDefault();
        const q = searchInput.value.trim();
        if (!q) return searchInput.focus();
        const target = searchHref(q);
        // Searching for the same words again runs the search again.
        if (location.hash === target) render();
        else location.hash = target;
      },
    },
  },
  searchInput,
  h("button", { type: "submit", "data-testid": "search-submit" }, "Search"),
);
replace(
  root,
  h(
    "header",
    { class: "top" },
    h("h1", {}, h("a", { href: "#/" }, "edgechat")),
    searchForm,
    h("nav", { class: "top-nav", "aria-label": "Account" }, adminLink, who),
  ),
  outlet,
);

const auth = new Auth(baseUrl, () => render());
let view: View | undefined;
let menu: View | undefined;
/** The answer of /api/auth/me, asked once per signed-in user. */
let adminCheck: { userId: string; admin: Promise<boolean> } | undefined;

function show(next: View): void {
  view?.dispose();
  view = next;
  replace(outlet, next.el);
}

function isAdmin(): Promise<boolean> {
  const session = auth.session;
  if (!session || session.user.kind !== "user") return Promise.resolve(false);
  if (adminCheck?.userId !== session.user.id) {
    adminCheck = {
      userId: session.user.id,
      admin: auth
        .call((api) => api.me())
        .then(
          (me) => me.admin,
          () => false,
        ),
    };
  }
  return adminCheck.admin;
}

function render(): void {
  menu?.dispose();
  menu = undefined;
  const session = auth.session;
  adminLink.hidden = true;
  if (!session) {
    replace(who);
    searchForm.hidden = true;
    adminCheck = undefined;
    document.title = "Sign in · edgechat";
    show(signInScreen(baseUrl, (signedIn) => auth.signedIn(signedIn)));
    return;
  }
  const admin = isAdmin();
  const ctx: AppContext = {
    auth,
    session,
    baseUrl,
    call: (run) => auth.call(run),
    rerender: render,
    admin,
  };
  void admin.then((yes) => {
    if (auth.session?.user.id === session.user.id) adminLink.hidden = !yes;
  });
  menu = accountMenu(ctx);
  replace(who, menu.el);
  searchForm.hidden = false;
  const route = currentRoute();
  if (route.view === "search") searchInput.value = route.q;
  switch (route.view) {
    case "room":
      show(
        chatView(ctx, route.room, {
          people: route.people === true,
          integrations: route.integrations,
          automation: route.automation,
        }),
      );
      document.title = `#${route.room} · edgechat`;
      break;
    case "search":
      show(searchView(ctx, route.q));
      document.title = `Search: ${route.q} · edgechat`;
      break;
    case "admin":
      show(dashboard(ctx, route));
      document.title = "Admin · edgechat";
      break;
    case "bots":
      show(botsPage(ctx));
      document.title = "Bots · edgechat";
      break;
    default:
      show(roomList(ctx));
      document.title = "edgechat";
  }
}

async function start(): Promise<void> {
  // A registered user's access token lasts 15 minutes: renew it from the refresh cookie first.
  if (auth.isUser) {
    replace(outlet, h("p", { class: "screen hint", role: "status" }, "Signing you in…"));
    await auth.renew(auth.session?.token);
  }
  // A screen may take a new URL in place (a room's panels), keeping its socket.
  window.addEventListener("hashchange", () => {
    if (!view?.follow?.(currentRoute())) render();
  });
  render();
}

void start();
