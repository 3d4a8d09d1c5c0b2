import type { AdminRoom } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "../context.ts";
import { h, replace } from "../dom.ts";
import { moderateHref } from "../route.ts";
import { roomVerifyCard } from "./room-verify-card.ts";
import { activityCells, reportTable } from "./tables.ts";

type AdminRooms = readonly AdminRoom[];
const ROOM_SORTS = ["activity", "sockets", "name"] as const;
type RoomSortKey = (typeof ROOM_SORTS)[number];
/** Rows asked for at most; the search narrows them down. */
const LIMIT = 200;
const TYPING_MS = 250;

const SORT_LABELS: Record<RoomSortKey, string> = {
  activity: "activity",
  sockets: "sockets open",
  name: "name",
};

/**
 * The dashboard's Rooms (`GET /api/admin/rooms`): every room the instance knows, searched by
 * name prefix and sorted by activity, sockets or name, each opening the room in the chat or
 * its people panel to moderate (admins rank above every owner: docs/roles.md); and any
 * room's log verified by name. The server searches and sorts; asked when shown, when the search
 * or the order changes, and by the Refresh button.
 */
export function roomsSection(ctx: AppContext): View {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = 0;
  const prefix = h("input", {
    id: "admin-room-prefix",
    type: "search",
    autocomplete: "off",
    placeholder: "name starts with…",
    maxlength: 64,
    "data-testid": "admin-room-search",
  });
  const sort = h(
    "select",
    { id: "admin-room-sort", "data-testid": "admin-room-sort" },
    ...ROOM_SORTS.map((key) => h("option", { value: key }, SORT_LABELS[key])),
  );
  const count = h("p", { class: "hint", role: "status", "data-testid": "admin-room-count" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "admin-rooms-error",
    hidden: true,
  });
  const body = h("tbody", { "data-testid": "admin-rooms" });
  const reload = h(
    "button",
    { type: "button", "data-testid": "admin-rooms-refresh", on: { click: () => void load() } },
    "Refresh",
  );
  prefix.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), TYPING_MS);
  });
  sort.addEventListener("change", () => void load());

  function draw(shown: AdminRooms): void {
    const now = Date.now();
    count.textContent =
      shown.length >= LIMIT
        ? `The first ${LIMIT} rooms: search to narrow them down.`
        : `${shown.length} ${shown.length === 1 ? "room" : "rooms"}`;
    replace(
      body,
      ...(shown.length
        ? shown.map((room) =>
            h(
              "tr",
              { "data-room": room.name },
              ...activityCells(room, now),
              h(
                "td",
                {},
                h(
                  "a",
                  {
                    href: moderateHref(room.name),
                    class: "button-link",
                    "data-testid": "moderate",
                  },
                  "Moderate",
                ),
              ),
            ),
          )
        : [h("tr", {}, h("td", { colspan: 5, class: "hint" }, "No room matches."))]),
    );
  }

  async function load(): Promise<void> {
    clearTimeout(timer);
    const ask = ++asked;
    problem.hidden = true;
    try {
      const q = prefix.value.trim().toLowerCase().replace(/^#/, "");
      const { rooms } = await ctx.call((api) =>
        api.admin.rooms({ q, sort: sort.value as RoomSortKey, limit: LIMIT }),
      );
      if (ask === asked) draw(rooms); // else a newer question is on its way
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = `Could not load the rooms: ${errorText(error)}`;
      problem.hidden = false;
    }
  }

  const el = h(
    "div",
    { class: "admin-section" },
    h(
      "section",
      { class: "card", "aria-labelledby": "admin-rooms-title" },
      h("h2", { id: "admin-rooms-title" }, "Rooms"),
      h(
        "form",
        {
          class: "row filters",
          role: "search",
          on: { submit: (event) => event.preventDefault() },
        },
        h("label", { for: "admin-room-prefix" }, "Search"),
        prefix,
        h("label", { for: "admin-room-sort" }, "Sort by"),
        sort,
        reload,
      ),
      count,
      problem,
      reportTable(["Room", "Sockets", "Events (5 min)", "Last active", "Moderate"], body, "Rooms"),
    ),
    roomVerifyCard(ctx),
  );
  void load();
  return {
    el,
    dispose() {
      clearTimeout(timer);
    },
  };
}
