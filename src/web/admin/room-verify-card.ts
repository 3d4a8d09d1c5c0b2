import { RoomName } from "../../client/index.ts";
import { chainVerdictText } from "../chain-verdict.ts";
import { errorText, handleUnauthorized, type AppContext } from "../context.ts";
import { h } from "../dom.ts";

/**
 * For admins in the dashboard: any room's hash chain recomputed and checked against its anchor
 * (docs/audit.md), by the room's name; owners have the same in the room itself.
 */
export function roomVerifyCard(ctx: AppContext): HTMLElement {
  const name = h("input", {
    id: "verify-room-name",
    "data-testid": "verify-room-name",
    placeholder: "room name",
    autocomplete: "off",
    required: true,
  });
  const verdict = h("p", { class: "hint", role: "status", "data-testid": "verify-room-result" });
  const form = h(
    "form",
    {
      class: "row",
      on: {
        submit: (event) => {
          event.preventDefault();
          void verify(name.value.trim());
        },
      },
    },
    h("label", { for: "verify-room-name" }, "Room"),
    name,
    h("button", { type: "submit", "data-testid": "verify-room" }, "Verify log"),
  );

  async function verify(room: string): Promise<void> {
    if (!RoomName.safeParse(room).success) {
      verdict.textContent = "Not a room name: 1-64 of a-z, 0-9, _ and -.";
      return;
    }
    verdict.textContent = "Verifying…";
    try {
      const report = await ctx.call((api) => api.verifyRoom(room));
      verdict.textContent = `#${room}: ${chainVerdictText(report)}`;
      verdict.setAttribute("data-ok", String(report.ok));
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      verdict.textContent = `#${room}: ${errorText(error)}`;
      verdict.setAttribute("data-ok", "false");
    }
  }

  return h(
    "section",
    { class: "card", "aria-labelledby": "verify-room-title" },
    h("h2", { id: "verify-room-title" }, "Room logs"),
    h("p", { class: "hint" }, "Recompute a room's hash chain and check it against its anchor."),
    form,
    verdict,
  );
}
