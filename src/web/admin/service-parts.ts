import {
  SERVICE_ACTIONS,
  type Action,
  type ServiceKeyInfo,
  type ServiceScope,
} from "../../client/index.ts";
import { h } from "../dom.ts";

/**
 * The parts of the Services section (services.ts): a scope's inputs and its text, one key's
 * line with its status and buttons, and the rotation overlaps offered.
 */

/** Rotation overlaps offered, in seconds: the API takes any from 0 to 30 days. */
export const OVERLAPS: [number, string][] = [
  [0, "none"],
  [3600, "1 hour"],
  [86_400, "24 hours"],
  [7 * 86_400, "7 days"],
  [30 * 86_400, "30 days"],
];

/** The inputs of a scope: rooms (names, or *), a role, and a checkbox per action. */
export function scopeFields(prefix: string, scope: ServiceScope) {
  const roomsId = `${prefix}-rooms`;
  const rooms = h("input", {
    id: roomsId,
    "data-testid": "service-rooms",
    value: scope.rooms === "*" ? "*" : scope.rooms.join(", "),
    placeholder: "lobby, ops — or * for every room",
    autocomplete: "off",
  });
  const role = h(
    "select",
    { id: `${prefix}-role`, "data-testid": "service-role" },
    ...(["member", "moderator"] as const).map((r) =>
      h("option", { value: r, selected: r === scope.role }, r),
    ),
  );
  const boxes = SERVICE_ACTIONS.map((action) =>
    h("input", {
      type: "checkbox",
      value: action,
      id: `${prefix}-action-${action}`,
      "data-testid": `action-${action}`,
      checked: scope.actions.includes(action),
    }),
  );
  const el = h(
    "div",
    { class: "scope-fields" },
    h("div", { class: "row" }, h("label", { for: roomsId }, "Rooms"), rooms),
    h("div", { class: "row" }, h("label", { for: `${prefix}-role` }, "Role"), role),
    h(
      "fieldset",
      { class: "actions" },
      h("legend", {}, "Actions"),
      ...boxes.map((box) => h("label", { for: box.id }, box, ` ${box.value}`)),
    ),
  );
  return {
    el,
    /** The scope as typed; the server checks it and says what is wrong. */
    read: (): ServiceScope => {
      const text = rooms.value.trim();
      return {
        rooms: text === "*" ? "*" : text.split(/[\s,]+/).filter(Boolean),
        actions: boxes.filter((box) => box.checked).map((box) => box.value as Action),
        role: role.value as ServiceScope["role"],
      };
    },
  };
}

export const scopeText = (scope: ServiceScope) =>
  `${scope.rooms === "*" ? "every room" : scope.rooms.map((r) => `#${r}`).join(", ")} · ` +
  `${scope.role} · ${scope.actions.join(", ")}`;

const when = (at: number | null) => (at === null ? "never" : new Date(at).toLocaleString());

export function keyLine(key: ServiceKeyInfo, on: { rotate: () => void; revoke: () => void }) {
  const usable = key.status === "active" || key.status === "expiring";
  const details = [
    `created ${when(key.createdAt)}`,
    key.expiresAt !== null && key.status !== "revoked" ? `expires ${when(key.expiresAt)}` : "",
    key.revokedAt !== null ? `revoked ${when(key.revokedAt)}` : "",
    `last used ${when(key.lastUsedAt)}`,
  ].filter(Boolean);
  return h(
    "li",
    { "data-key": key.id, "data-status": key.status },
    h("span", { class: "mono" }, key.id),
    " ",
    h("span", { class: `badge ${usable ? "" : "muted"}`, "data-testid": "key-status" }, key.status),
    h("div", { class: "hint" }, details.join(" · ")),
    usable
      ? h(
          "div",
          { class: "row" },
          h(
            "button",
            { type: "button", "data-testid": "rotate", on: { click: on.rotate } },
            "Rotate",
          ),
          h(
            "button",
            { type: "button", class: "danger", "data-testid": "revoke", on: { click: on.revoke } },
            "Revoke",
          ),
        )
      : null,
  );
}
