import {
  BOTS_PER_USER_MAX,
  YourRoomsDocument,
  type IssuedKey,
  type ServiceAccount,
} from "../client/index.ts";
import {
  botScopeFields,
  keyReveal,
  newServiceForm,
  scopeText,
  serviceControls,
  serviceRunner,
} from "./admin/service-parts.ts";
import type { AppContext, View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { serviceBadge } from "./service-badge.ts";
import { apiScope } from "./webhooks/scope.ts";

/** How many of your rooms the page asks for, to offer them to bots: `me.rooms`' most. */
const ROOMS_ASKED = 40;

/**
 * "Your bots" (`#/bots`, docs/integrations.md "Bots"): a registered user's own service accounts,
 * in rooms they own. The admin dashboard's Services pieces (admin/service-parts.ts) on one
 * column of cards: the list with each key's status and last use, a form to make one (the key
 * shown once, with a copy button and a warning), and per bot: its scope edited in place (only
 * rooms you own are offered), a key added, rotated or revoked, the bot disabled, enabled or
 * deleted (asked first).
 */
export function botsPage(ctx: AppContext): View {
  if (ctx.session.user.kind !== "user")
    return {
      el: h(
        "main",
        { class: "screen bots" },
        h("h2", {}, "Bots"),
        h("p", {}, "Bots are for registered users: register to make one."),
        h("a", { href: "#/" }, "← Rooms"),
      ),
      dispose() {},
    };
  let disposed = false;
  const list = h("ul", { class: "bot-list", "data-testid": "bots", "aria-live": "polite" });
  const count = h("p", { class: "hint", "data-testid": "bots-count" });
  const reveal = keyReveal();
  const createSlot = h("div", {});
  /** The rooms you own, as `me.rooms` says (the server checks them again). */
  let owned: string[] = [];

  const showKey = (issued: IssuedKey, what: string) => reveal.show(issued, what, "bot");
  const { problem, act, failed } = serviceRunner(
    apiScope(ctx, (api) => api.bots),
    "bots-error",
    load,
    () => disposed,
  );

  const createForm = () =>
    newServiceForm({
      act,
      showKey,
      editor: botScopeFields("new-bot", { rooms: [], actions: ["post"], role: "member" }, owned),
      nameId: "bot-name",
      attrs: { class: "service-form card", "aria-labelledby": "new-bot-title" },
      title: h("h3", { id: "new-bot-title" }, "New bot"),
      submit: { testid: "bot-create", text: "Make bot" },
      made: (name) => `Bot ${name} made.`,
    });

  function card(bot: ServiceAccount): HTMLLIElement {
    const disabled = bot.disabledAt !== null;
    // A scope with "*" (an admin's service of yours) cannot be a bot's: edit it with rooms.
    const rooms = bot.scope.rooms === "*" ? [] : bot.scope.rooms;
    const controls = serviceControls(bot, {
      act,
      showKey,
      editor: botScopeFields(bot.id, { ...bot.scope, rooms }, owned),
      // On a card the form itself folds away.
      editIn: (form) => {
        form.classList.add("scope-edit");
        return form;
      },
    });
    return h(
      "li",
      { class: `card bot${disabled ? " bad" : ""}`, "data-bot": bot.name },
      h(
        "h3",
        {},
        bot.name,
        serviceBadge(bot.id),
        disabled ? h("span", { class: "badge muted" }, "disabled") : null,
      ),
      h("div", { class: "mono hint" }, bot.id),
      h("p", { class: "wrap", "data-testid": "scope" }, scopeText(bot.scope)),
      controls.keys,
      controls.actions,
      controls.edit,
    );
  }

  async function ownedRooms(): Promise<string[]> {
    const { me } = await ctx.call((api) => api.graphql(YourRoomsDocument, { first: ROOMS_ASKED }));
    return me.rooms.filter((room) => room.role === "owner").map((room) => room.name);
  }

  async function load(): Promise<void> {
    const [{ bots, max }, rooms] = await Promise.all([
      ctx.call((api) => api.bots.list()),
      ownedRooms(),
    ]);
    if (disposed) return;
    owned = rooms.sort();
    count.textContent = `${bots.length} of ${max} bots.`;
    replace(
      createSlot,
      bots.length < max
        ? createForm()
        : h(
            "p",
            { class: "hint" },
            "You have as many bots as a user may: delete one to make another.",
          ),
    );
    replace(
      list,
      ...(bots.length
        ? bots.map(card)
        : [h("li", { class: "empty hint" }, "No bots yet: make one above.")]),
    );
  }

  void load().catch(failed("Could not load your bots"));

  const el = h(
    "main",
    { class: "screen bots", "aria-labelledby": "bots-title" },
    h(
      "div",
      { class: "row spread" },
      h("h2", { id: "bots-title" }, "Your bots"),
      h("a", { href: "#/" }, "← Rooms"),
    ),
    h(
      "p",
      { class: "hint" },
      "A bot posts and moderates in rooms you own, with an API key (Authorization: Bearer " +
        `ecsk_…), within the actions you give it; its messages carry a bot badge. At most ${BOTS_PER_USER_MAX}.`,
    ),
    count,
    createSlot,
    problem,
    reveal.el,
    list,
  );
  return {
    el,
    dispose() {
      disposed = true;
    },
  };
}
