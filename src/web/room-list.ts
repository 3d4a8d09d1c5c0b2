import * as z from "zod";
import { RoomName, RoomSort, Visibility, type RoomInfo } from "../client/index.ts";
import {
  emptyDirectory,
  loading,
  newWalk,
  pageArrived,
  pageFailed,
  wantsPage,
} from "./directory-state.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { goToRoom, roomHref, takeFlash } from "./route.ts";
import { readStored } from "./stored.ts";

/** How many rooms a page of the list asks for. */
const PAGE = 30;
/** How long typing in the filter pauses before the list follows it. */
const FILTER_DELAY_MS = 250;

/**
 * The public rooms with their member and online counts, paged in as the list scrolls, with a
 * filter by name and a choice of order; and forms to create or open a room.
 */
export function roomList(ctx: AppContext): View {
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

  const name = h("input", {
    id: "room-name",
    name: "name",
    required: true,
    maxlength: 64,
    pattern: "[a-z0-9][a-z0-9_\\-]{0,63}",
    "data-testid": "room-name",
    autocomplete: "off",
  });
  const topic = h("input", {
    id: "room-topic",
    name: "topic",
    maxlength: 200,
    "data-testid": "room-topic",
    autocomplete: "off",
  });
  const createError = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "create-error",
    hidden: true,
  });
  const guest = ctx.session.user.kind !== "user";
  const publicRoom = h("input", {
    id: "visibility-public",
    type: "radio",
    name: "visibility",
    value: "public",
    checked: true,
    "data-testid": "visibility-public",
  });
  const privateRoom = h("input", {
    id: "visibility-private",
    type: "radio",
    name: "visibility",
    value: "private",
    disabled: guest,
    "aria-describedby": "private-hint",
    "data-testid": "visibility-private",
  });
  const visibility = h(
    "fieldset",
    { class: "visibility" },
    h("legend", {}, "Who can join"),
    h(
      "div",
      { class: "choice" },
      publicRoom,
      h("label", { for: "visibility-public" }, "Public: listed, anyone may join"),
    ),
    h(
      "div",
      { class: "choice" },
      privateRoom,
      h("label", { for: "visibility-private" }, "Private: invited members only"),
    ),
    h(
      "p",
      { class: "hint", id: "private-hint" },
      guest
        ? "Guests cannot create private rooms: sign out and create an account first."
        : "A private room is never listed; you invite its members by username.",
    ),
  );
  const create = h("button", { type: "submit", "data-testid": "create" }, "Create room");
  const fail = (text: string) => {
    createError.textContent = text;
    createError.hidden = false;
  };
  const form = h(
    "form",
    {
      class: "card create",
      novalidate: true,
      on: {
        submit: async (event) => {
          event.preventDefault();
          const room = name.value.trim();
          const valid = RoomName.safeParse(room);
          if (!valid.success) return fail(valid.error.issues[0]?.message ?? "invalid room name");
          create.disabled = true;
          try {
            const visibility = privateRoom.checked ? "private" : "public";
            await ctx.call((api) =>
              api.createRoom({ name: room, topic: topic.value.trim(), visibility }),
            );
            rememberRoom(ctx.session.user.id, room, visibility);
            goToRoom(room);
          } catch (error) {
            if (!handleUnauthorized(ctx, error)) fail(errorText(error));
          } finally {
            create.disabled = false;
          }
        },
      },
    },
    h("h2", {}, "New room"),
    h("label", { for: "room-name" }, "Name"),
    name,
    h("p", { class: "hint" }, "Lower-case letters, digits, _ and -; up to 64."),
    h("label", { for: "room-topic" }, "Topic (optional)"),
    topic,
    visibility,
    create,
    createError,
  );

  // Private rooms are never listed: open one by name, and find the ones you visited here.
  const goName = h("input", {
    id: "go-name",
    name: "room",
    required: true,
    maxlength: 64,
    autocomplete: "off",
    "data-testid": "go-name",
  });
  const goError = h("p", { class: "error", role: "alert", hidden: true });
  const goForm = h(
    "form",
    {
      class: "card go",
      novalidate: true,
      on: {
        submit: (event) => {
          event.preventDefault();
          const room = goName.value.trim().replace(/^#/, "");
          if (!RoomName.safeParse(room).success) {
            goError.textContent = "That is not a room name.";
            goError.hidden = false;
            return;
          }
          goToRoom(room);
        },
      },
    },
    h("h2", {}, "Open a room"),
    h("label", { for: "go-name" }, "Room name"),
    h(
      "div",
      { class: "row" },
      goName,
      h("button", { type: "submit", "data-testid": "go" }, "Open"),
    ),
    h("p", { class: "hint" }, "For private rooms you were invited to."),
    goError,
  );
  const recent = recentRooms(ctx.session.user.id).filter((r) => r.visibility === "private");
  const yours = recent.length
    ? h(
        "section",
        { class: "card", "aria-labelledby": "yours-title" },
        h("h2", { id: "yours-title" }, "Your private rooms"),
        h(
          "ul",
          { class: "rooms", "data-testid": "private-rooms" },
          ...recent.map((r) =>
            h(
              "li",
              { "data-room": r.name },
              h("a", { href: roomHref(r.name) }, `#${r.name}`),
              h("span", { class: "counts" }, "private"),
            ),
          ),
        ),
      )
    : null;

  const flashText = takeFlash();
  const flash = flashText
    ? h(
        "div",
        { class: "flash", role: "status", "data-testid": "flash" },
        h("span", {}, flashText),
        " ",
        h(
          "button",
          { type: "button", class: "link", on: { click: () => flash?.remove() } },
          "Dismiss",
        ),
      )
    : null;
  const el = h(
    "main",
    { class: "screen lobby" },
    flash,
    h(
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
    ),
    h("div", { class: "side" }, form, goForm, yours),
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

const Recent = z.object({ name: RoomName, visibility: Visibility });
type Recent = z.infer<typeof Recent>;
const recentKey = (userId: string) => `edgechat.rooms.${userId}`;

/** Rooms this user opened in this browser, newest first (private rooms appear in no list). */
export function recentRooms(userId: string): Recent[] {
  const stored = readStored(recentKey(userId), z.array(z.unknown()));
  if (stored.found !== "value") return [];
  // One bad entry does not cost the others.
  return stored.value.flatMap((entry) => {
    const room = Recent.safeParse(entry);
    return room.success ? [room.data] : [];
  });
}

export function rememberRoom(userId: string, name: string, visibility: Recent["visibility"]): void {
  const rooms = [{ name, visibility }, ...recentRooms(userId).filter((r) => r.name !== name)].slice(
    0,
    20,
  );
  localStorage.setItem(recentKey(userId), JSON.stringify(rooms));
}

export function forgetRoom(userId: string, name: string): void {
  localStorage.setItem(
    recentKey(userId),
    JSON.stringify(recentRooms(userId).filter((r) => r.name !== name)),
  );
}
