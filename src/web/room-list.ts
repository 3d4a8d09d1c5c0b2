import { RoomName } from "../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h } from "./dom.ts";
import { rememberRoom } from "./recent-rooms.ts";
import { roomDirectory } from "./room-directory.ts";
import { goToRoom, takeFlash } from "./route.ts";
import { yourRooms } from "./your-rooms.ts";

/**
 * The lobby: the public rooms (paged in as the list scrolls, filtered and ordered:
 * room-directory.ts), and forms to create or open a room.
 */
export function roomList(ctx: AppContext): View {
  const directory = roomDirectory(ctx);
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

  // Private rooms are never listed: open one by name.
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
  // Private rooms are never listed: yours (invitations too) show here, with unread counts.
  const yours = yourRooms(ctx);

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
    directory.el,
    h("div", { class: "side" }, yours.el, form, goForm),
  );
  return {
    el,
    dispose: () => {
      directory.dispose();
      yours.dispose();
    },
  };
}
