import { UNREAD_CAP, YourRoomsDocument, type YourRoomsQuery } from "../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { recentRooms } from "./recent-rooms.ts";
import { roomHref } from "./route.ts";

type YourRoom = YourRoomsQuery["me"]["rooms"][number];

/**
 * The lobby's "Your rooms" with unread counts, over GraphQL (`me.rooms`, the SDK's typed
 * YourRooms document): a registered user's rooms come from their account; a guest has none, so
 * the page names the rooms it remembers for them (recent-rooms.ts). Asked again whenever the tab
 * comes back into view, so the counts follow what was said meanwhile.
 */
export function yourRooms(ctx: AppContext): View {
  const list = h("ul", { class: "rooms", "data-testid": "your-rooms", "aria-live": "polite" });
  const failure = h("p", { class: "error", role: "alert", hidden: true });
  const refresh = h(
    "button",
    { type: "button", "data-testid": "your-rooms-refresh", on: { click: () => void load() } },
    "Refresh",
  );
  const guest = ctx.session.user.kind !== "user";
  let disposed = false;

  async function load(): Promise<void> {
    refresh.disabled = true;
    try {
      const names = guest ? recentRooms(ctx.session.user.id).map((room) => room.name) : undefined;
      const { me } = await ctx.call((api) => api.graphql(YourRoomsDocument, { names }));
      if (disposed) return;
      failure.hidden = true;
      draw(me.rooms);
    } catch (error) {
      if (disposed || handleUnauthorized(ctx, error)) return;
      failure.textContent = errorText(error);
      failure.hidden = false;
    } finally {
      refresh.disabled = false;
    }
  }

  function draw(rooms: readonly YourRoom[]): void {
    const empty = guest
      ? "Rooms you open show here, with what is new in them."
      : "Rooms you create, open or are invited to show here, with what is new in them.";
    replace(list, ...(rooms.length ? rooms.map(roomLine) : [h("li", { class: "empty" }, empty)]));
  }

  const onVisibility = () => {
    if (document.visibilityState === "visible") void load();
  };
  document.addEventListener("visibilitychange", onVisibility);
  void load();
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "yours-title" },
    h("div", { class: "row spread" }, h("h2", { id: "yours-title" }, "Your rooms"), refresh),
    failure,
    list,
  );
  return {
    el,
    dispose() {
      disposed = true;
      document.removeEventListener("visibilitychange", onVisibility);
    },
  };
}

function roomLine(room: YourRoom): HTMLLIElement {
  const unread = room.unread >= UNREAD_CAP ? `${UNREAD_CAP}+` : String(room.unread);
  return h(
    "li",
    { "data-testid": "your-room", "data-your-room": room.name, "data-unread": room.unread },
    h("a", { href: roomHref(room.name) }, `#${room.name}`),
    room.unread > 0
      ? h(
          "span",
          { class: "unread", "data-testid": "unread" },
          unread,
          h(
            "span",
            { class: "visually-hidden" },
            room.unread === 1 ? " unread message" : " unread messages",
          ),
        )
      : null,
    room.topic ? h("span", { class: "topic" }, room.topic) : null,
    h(
      "span",
      { class: "counts" },
      [room.visibility === "private" ? "private" : "", room.role === "member" ? "" : room.role]
        .filter(Boolean)
        .join(" · "),
    ),
  );
}
