import type * as z from "zod";
import {
  SERVICE_ACTIONS,
  type Action,
  type BotScope,
  type CreateService,
  type IssuedKey,
  type ServiceAccount,
  type ServiceAccountsApi,
  type ServiceKeyInfo,
  type ServiceScope,
} from "../../client/index.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import { secretReveal } from "../secret-reveal.ts";
import type { ApiScope } from "../webhooks/scope.ts";

/**
 * The parts of the Services section (services.ts), shared with the Bots page (../bots.ts): a
 * scope's inputs and its text, one key's line with its status and buttons, the rotation
 * overlaps offered, the box that shows a new key once, the form that makes an account, one
 * account's keys and actions, and how a page runs those.
 */

/** Rotation overlaps offered, in seconds: the API takes any from 0 to 30 days. */
export const OVERLAPS: [number, string][] = [
  [0, "none"],
  [3600, "1 hour"],
  [86_400, "24 hours"],
  [7 * 86_400, "7 days"],
  [30 * 86_400, "30 days"],
];

/** A scope's role and a checkbox per action, as inputs (shared by services' and bots' forms). */
function roleAndActions(prefix: string, scope: Pick<ServiceScope, "actions" | "role">) {
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
  return {
    els: [
      h("div", { class: "row" }, h("label", { for: `${prefix}-role` }, "Role"), role),
      h(
        "fieldset",
        { class: "actions" },
        h("legend", {}, "Actions"),
        ...boxes.map((box) => h("label", { for: box.id }, box, ` ${box.value}`)),
      ),
    ],
    read: () => ({
      actions: boxes.filter((box) => box.checked).map((box) => box.value as Action),
      role: role.value as ServiceScope["role"],
    }),
  };
}

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
  const rest = roleAndActions(prefix, scope);
  const el = h(
    "div",
    { class: "scope-fields" },
    h("div", { class: "row" }, h("label", { for: roomsId }, "Rooms"), rooms),
    ...rest.els,
  );
  return {
    el,
    /** The scope as typed; the server checks it and says what is wrong. */
    read: (): ServiceScope => {
      const text = rooms.value.trim();
      return {
        rooms: text === "*" ? "*" : text.split(/[\s,]+/).filter(Boolean),
        ...rest.read(),
      };
    },
  };
}

/**
 * The inputs of a bot's scope: a checkbox per room its owner owns (`owned`), and per room of
 * its scope that they no longer own, marked so (the server refuses to keep it), then the role
 * and the actions.
 */
export function botScopeFields(prefix: string, scope: BotScope, owned: readonly string[]) {
  const offered = [...new Set([...owned, ...scope.rooms])];
  const boxes = offered.map((room, i) =>
    h("input", {
      type: "checkbox",
      value: room,
      id: `${prefix}-room-${i}`,
      "data-testid": "bot-room",
      "data-room": room,
      checked: scope.rooms.includes(room),
    }),
  );
  const rest = roleAndActions(prefix, scope);
  const el = h(
    "div",
    { class: "scope-fields" },
    h(
      "fieldset",
      { class: "actions rooms-picked" },
      h("legend", {}, "Rooms (yours)"),
      ...(boxes.length
        ? boxes.map((box) =>
            h(
              "label",
              { for: box.id },
              box,
              ` #${box.value}`,
              owned.includes(box.value) ? null : h("span", { class: "hint" }, " (not yours now)"),
            ),
          )
        : [h("p", { class: "hint" }, "You own no rooms yet: create one, then give it to a bot.")]),
    ),
    ...rest.els,
  );
  return {
    el,
    read: (): BotScope => ({
      rooms: boxes.filter((box) => box.checked).map((box) => box.value),
      ...rest.read(),
    }),
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

/** The box that shows a new key once (../secret-reveal.ts), with what its holder may do. */
export function keyReveal() {
  const reveal = secretReveal({ name: "service-key", label: "Key", testid: "key-reveal" });
  const show = (issued: IssuedKey, what: string, actsAs: string): void =>
    reveal.show(
      issued.key.secret,
      `${what} Its new key (id ${issued.key.id}):`,
      "Copy this key now: it is shown only this once and is stored only as a hash. " +
        `Anyone who has it acts as the ${actsAs}.`,
    );
  return { el: reveal.el, show, hide: reveal.hide };
}

/**
 * A Delete button that asks first, in place (no `confirm()` dialog): "Delete <what> for good?"
 * and what goes with it, with a button that does it and one that takes it back. `verb` names
 * another step that cannot be taken back ("Revoke"); the test ids follow it (`revoke`,
 * `revoke-confirm`, `revoke-cancel`).
 */
export function deleteWithConfirm(
  what: string,
  run: () => void,
  consequence = "Its keys stop at once.",
  verb: "Delete" | "Revoke" = "Delete",
): HTMLElement {
  const testid = verb.toLowerCase();
  const box = h("div", { class: "confirm-delete" });
  const ask = () => {
    const cancel = h(
      "button",
      { type: "button", "data-testid": `${testid}-cancel`, on: { click: () => idle().focus() } },
      "Cancel",
    );
    replace(
      box,
      h("span", { role: "alert", class: "warning" }, `${verb} ${what} for good? ${consequence}`),
      h(
        "button",
        { type: "button", class: "danger", "data-testid": `${testid}-confirm`, on: { click: run } },
        `Yes, ${testid}`,
      ),
      cancel,
    );
    cancel.focus(); // the safe choice first
  };
  /** Shows the first button again, and answers it (Cancel gives it the focus back). */
  const idle = () => {
    const button = h(
      "button",
      { type: "button", class: "danger", "data-testid": testid, on: { click: ask } },
      verb,
    );
    replace(box, button);
    return button;
  };
  idle();
  return box;
}

/** The calls on a set of accounts and on each, whichever set it is: the admins' or the bots'. */
export type ServiceCalls<Scope extends ServiceScope> = Pick<
  ServiceAccountsApi<z.ZodType, CreateService & { scope: Scope }, Scope>,
  "create" | "setScope" | "setDisabled" | "addKey" | "rotateKey" | "revokeKey" | "delete"
>;

/** Runs a call on the page's set of accounts, then reloads its list (or says what went wrong). */
type Act<Scope extends ServiceScope> = (
  run: (accounts: ServiceCalls<Scope>) => Promise<unknown>,
) => void;

/**
 * How a page of service accounts runs an action on its set (`accounts`: `api.admin.serviceAccounts`
 * or `api.bots`, through ../webhooks/scope.ts's `apiScope`): the call, then `reload` of its list;
 * what goes wrong is said in `problem` (an alert with the test id `problemId`; a 401 has signed
 * out already; nothing is said once the page is `gone`). `failed` says so of a load that went
 * wrong, after `what`.
 */
export function serviceRunner<Scope extends ServiceScope>(
  accounts: ApiScope<ServiceCalls<Scope>>,
  problemId: string,
  reload: () => Promise<void>,
  gone: () => boolean = () => false,
) {
  const problem = h("p", { class: "error", role: "alert", "data-testid": problemId, hidden: true });
  const say = (error: unknown, text: string) => {
    if (gone() || accounts.signedOut(error)) return;
    problem.textContent = text;
    problem.hidden = false;
  };
  const act: Act<Scope> = (run) =>
    void (async () => {
      problem.hidden = true;
      try {
        await accounts.call(run);
        await reload();
      } catch (error) {
        say(error, errorText(error));
      }
    })();
  const failed = (what: string) => (error: unknown) => say(error, `${what}: ${errorText(error)}`);
  return { problem, act, failed };
}

/**
 * The form that makes a service account or a bot: its name, the scope's inputs (`editor`), and
 * a submit button (`submit`: its test id and words); the new key is shown once with `made`.
 * `attrs` and `title` are the form's own: a labelled section's form or a titled card.
 */
export function newServiceForm<Scope extends ServiceScope>(options: {
  act: Act<Scope>;
  showKey: (issued: IssuedKey, what: string) => void;
  editor: { el: HTMLElement; read: () => Scope };
  /** The name input's id and test id. */
  nameId: string;
  attrs: Record<string, string>;
  title?: HTMLElement;
  submit: { testid: string; text: string };
  made: (name: string) => string;
}): HTMLFormElement {
  const { act, showKey, editor } = options;
  const name = h("input", {
    id: options.nameId,
    name: "name",
    "data-testid": options.nameId,
    required: true,
    autocomplete: "off",
    placeholder: "deploybot",
    maxlength: 32,
  });
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    act(async (accounts) => {
      const issued = await accounts.create({ name: name.value.trim(), scope: editor.read() });
      name.value = "";
      showKey(issued, options.made(issued.service.name));
    });
  };
  return h(
    "form",
    { ...options.attrs, on: { submit } },
    options.title,
    h("div", { class: "row" }, h("label", { for: options.nameId }, "Name"), name),
    editor.el,
    h("button", { type: "submit", "data-testid": options.submit.testid }, options.submit.text),
  );
}

/** What a page hands `serviceControls`: how it runs calls and shows things. */
export type ServiceControlsOptions<Scope extends ServiceScope> = {
  /** `serviceRunner`'s, on the set the account is in. */
  act: Act<Scope>;
  /** Shows a new key once, with what happened. */
  showKey: (issued: IssuedKey, what: string) => void;
  /** The scope's inputs, filled with the account's scope: `scopeFields` or `botScopeFields`. */
  editor: { el: HTMLElement; read: () => Scope };
  /** Puts the scope's form where the page wants it; Edit scope shows and hides what it returns. */
  editIn: (form: HTMLFormElement) => HTMLElement;
};

/**
 * One service account's keys (each with Rotate and Revoke) and its actions: Add key, Edit scope,
 * Disable or Enable, the rotation overlap, Delete (asked first); and its scope's form, hidden
 * until Edit scope. The admin Services' rows and the bots' cards lay them out each their way.
 */
export function serviceControls<Scope extends ServiceScope>(
  service: ServiceAccount,
  options: ServiceControlsOptions<Scope>,
) {
  const { id, name } = service;
  const { act, showKey, editor } = options;
  const disabled = service.disabledAt !== null;
  const overlap = h(
    "select",
    { "aria-label": `Overlap when rotating ${name}'s keys`, "data-testid": "overlap" },
    ...OVERLAPS.map(([seconds, label]) =>
      h("option", { value: seconds, selected: seconds === 86_400 }, label),
    ),
  );
  const form = h(
    "form",
    {
      class: "service-form",
      "aria-label": `Scope of ${name}`,
      on: {
        submit: (event) => {
          event.preventDefault();
          act((accounts) => accounts.setScope(id, editor.read()));
        },
      },
    },
    editor.el,
    h("button", { type: "submit", "data-testid": "scope-save" }, "Save scope"),
  );
  const edit = options.editIn(form);
  edit.hidden = true;
  const editButton = h(
    "button",
    {
      type: "button",
      "data-testid": "edit-scope",
      "aria-expanded": "false",
      on: {
        click: () => {
          edit.hidden = !edit.hidden;
          editButton.setAttribute("aria-expanded", String(!edit.hidden));
        },
      },
    },
    "Edit scope",
  );
  const keys = h(
    "ul",
    { class: "keys" },
    ...service.keys.map((key) =>
      keyLine(key, {
        rotate: () =>
          act(async (accounts) => {
            const issued = await accounts.rotateKey(id, key.id, Number(overlap.value));
            showKey(issued, `Key ${key.id} of ${name} rotated.`);
          }),
        revoke: () => act((accounts) => accounts.revokeKey(id, key.id)),
      }),
    ),
  );
  const actions = h(
    "div",
    { class: "service-actions" },
    h(
      "button",
      {
        type: "button",
        "data-testid": "add-key",
        on: {
          click: () =>
            act(async (accounts) => showKey(await accounts.addKey(id), `Key added to ${name}.`)),
        },
      },
      "Add key",
    ),
    editButton,
    h(
      "button",
      {
        type: "button",
        class: disabled ? undefined : "danger",
        "data-testid": disabled ? "enable" : "disable",
        on: { click: () => act((accounts) => accounts.setDisabled(id, !disabled)) },
      },
      disabled ? "Enable" : "Disable",
    ),
    h("label", {}, "Rotation overlap ", overlap),
    deleteWithConfirm(name, () => act((accounts) => accounts.delete(id))),
  );
  return { keys, actions, edit };
}
