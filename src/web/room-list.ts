import { RoomName, type RoomInfo } from "../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h, replace } from "./dom.ts";
import { goToRoom, roomHref } from "./route.ts";

/** The public rooms with their member and online counts, and a form to create one. */
export function roomList(ctx: AppContext): View {
  const list = h("ul", { class: "rooms", "data-testid": "rooms", "aria-live": "polite" });
  const listError = h("p", { class: "error", role: "alert", hidden: true });
  const refresh = h(
    "button",
    { type: "button", "data-testid": "refresh", on: { click: () => void load() } },
    "Refresh",
  );
  let disposed = false;

  async function load(): Promise<void> {
    refresh.disabled = true;
    try {
      const { rooms } = await ctx.api.listRooms();
      if (disposed) return;
      listError.hidden = true;
      replace(
        list,
        ...(rooms.length
          ? rooms.map(roomLine)
          : [h("li", { class: "empty" }, "No rooms yet. Create the first one.")]),
      );
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      listError.textContent = errorText(error);
      listError.hidden = false;
    } finally {
      refresh.disabled = false;
    }
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
            await ctx.api.createRoom({ name: room, topic: topic.value.trim() });
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
    create,
    createError,
  );

  const el = h(
    "main",
    { class: "screen lobby" },
    h(
      "section",
      { class: "card", "aria-labelledby": "rooms-title" },
      h("div", { class: "row spread" }, h("h2", { id: "rooms-title" }, "Rooms"), refresh),
      listError,
      list,
    ),
    form,
  );
  void load();
  return {
    el,
    dispose() {
      disposed = true;
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
