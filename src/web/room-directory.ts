import { RoomSort, type RoomInfo } from "../client/index.ts";
import { errorText, handleUnauthorized, type AppContext } from "./context.ts";
import {
  emptyDirectory,
  loading,
  newWalk,
  pageArrived,
  pageFailed,
  wantsPage,
} from "./directory-state.ts";
import { h, replace } from "./dom.ts";
import { roomHref } from "./route.ts";

/** How many rooms a page of the list asks for. */
const PAGE = 30;
/** How long typing in the filter pauses before the list follows it. */
const FILTER_DELAY_MS = 250;

/**
 * The public rooms, paged in as the end of the list scrolls into view (and by its "More rooms"
 * button), with a filter by name and a choice of order (directory-state.ts keeps the walk).
 */
export function roomDirectory(ctx: AppContext): { el: HTMLElement; dispose(): void } {
  const list = h("ul", { class: "rooms", "data-testid": "rooms", "aria-live": "polite" });
  const listError = h("p", { class: "error", role: "alert", hidden: true });
  const refresh = h(
    "button",
    { type: "button", "data-testid": "refresh", on: { click: () => restart() } },
    "Refresh",
  );
  const more = h(
    "button",
    {
      type: "button",
      class: "link",
      "data-testid": "more-rooms",
      on: { click: () => void next() },
    },
    "More rooms",
  );
  const filter = h("input", {
    id: "room-filter",
    type: "search",
    maxlength: 64,
    placeholder: "Filter by name",
    autocomplete: "off",
    "data-testid": "room-filter",
    on: { input: () => restartSoon() },
  });
  const sortBy = h(
    "select",
    { id: "room-sort", "data-testid": "room-sort", on: { change: () => restart() } },
    h("option", { value: "activity" }, "Busiest"),
    h("option", { value: "newest" }, "Newest"),
    h("option", { value: "members" }, "Most members"),
  );
  let directory = emptyDirectory;
  let disposed = false;
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  // The end of the list: when it scrolls into view, the next page loads.
  const watcher = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) void next();
  });
  watcher.observe(more);

  function restartSoon(): void {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(restart, FILTER_DELAY_MS);
  }

  function restart(): void {
    clearTimeout(filterTimer);
    const prefix = filter.value.trim().toLowerCase().replace(/^#/, "");
    const sort = RoomSort.catch("activity").parse(sortBy.value);
    directory = newWalk(directory, sort, prefix);
    draw();
    void next();
  }

  async function next(): Promise<void> {
    if (!wantsPage(directory)) return;
    const { walk, sort, prefix, cursor } = directory;
    directory = loading(directory);
    draw();
    try {
      const page = await ctx.call((api) =>
        api.listRooms(cursor ? { cursor, limit: PAGE } : { sort, prefix, limit: PAGE }),
      );
      if (disposed) return;
      listError.hidden = true;
      directory = pageArrived(directory, walk, page);
      // Observing afresh reports whether the end of the list is still in view: if the page did
      // not fill the screen, the next one loads without waiting for a scroll.
      watcher.unobserve(more);
      watcher.observe(more);
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      directory = pageFailed(directory, walk);
      listError.textContent = errorText(error);
      listError.hidden = false;
    }
    draw();
  }

  function draw(): void {
    const { rooms, cursor, prefix } = directory;
    const empty = prefix
      ? `No public room starts with "${prefix}".`
      : "No rooms yet. Create the first one.";
    replace(
      list,
      ...(rooms.length || cursor !== null
        ? rooms.map(roomLine)
        : [h("li", { class: "empty" }, empty)]),
    );
    more.hidden = cursor === null;
    more.disabled = directory.loading;
    refresh.disabled = directory.loading;
  }

  const el = h(
    "section",
    { class: "card", "aria-labelledby": "rooms-title" },
    h("div", { class: "row spread" }, h("h2", { id: "rooms-title" }, "Rooms"), refresh),
    h(
      "div",
      { class: "row" },
      h("label", { for: "room-filter", class: "visually-hidden" }, "Filter rooms by name"),
      filter,
      h("label", { for: "room-sort", class: "visually-hidden" }, "Order"),
      sortBy,
    ),
    listError,
    list,
    more,
  );
  restart();
  return {
    el,
    dispose() {
      disposed = true;
      clearTimeout(filterTimer);
      watcher.disconnect();
    },
  };
}

function roomLine(room: RoomInfo): HTMLLIElement {
  return h(
    "li",
    { "data-testid": "room", "data-room": room.name },
    h("a", { href: roomHref(room.name) }, `#${room.name}`),
    room.topic ? h("span", { class: "topic" }, room.topic) : null,
    h(
      "span",
      { class: "counts" },
      `${room.members} ${room.members === 1 ? "member" : "members"} · ${room.online} online`,
    ),
  );
}
