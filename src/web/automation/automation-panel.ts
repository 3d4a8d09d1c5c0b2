import { ApiError, can, type RoomEvent, type Standing } from "../../client/index.ts";
import { errorText, type AppContext, type View } from "../context.ts";
import { h } from "../dom.ts";
import { roomHref } from "../route.ts";
import { apiScope } from "../webhooks/scope.ts";
import { mayManageRoomPlugins, type Names } from "./automation-rules.ts";
import type { Choice } from "./form-parts.ts";
import { commandChoices } from "./plugin-rules.ts";
import { roomPluginsCalls } from "./plugins-api.ts";
import { remindersCalls } from "./reminders-api.ts";
import { RoomPluginsPanel } from "./room-plugins-panel.ts";
import type { BuilderPicks } from "./rule-builder.ts";
import { incomingHooks, outgoingWebhooks, rulesCalls } from "./rules-api.ts";
import { RulesPanel } from "./rules-panel.ts";
import { SchedulesPanel } from "./schedules-panel.ts";

/**
 * A room's Automation view (docs/automation.md, "In the UI"), at `#/room/<name>/automation`, in
 * place of the live room as the Integrations panel is: its rules and the rule builder, what runs
 * by the clock (timed rules, reminders), and for its owner and admins its plugins. chat-view.ts
 * opens it only for moderators and above; the API answers anyone else 403. It follows the room's
 * log: a rule saved or deleted, a plugin switched, by anyone, shows here within a moment.
 */
export function automationPanel(
  ctx: AppContext,
  room: string,
  you: Standing,
  live: {
    /** Takes back your last action in the room. */
    undo: () => Promise<unknown>;
    /** Hears the room's live events until the returned function is called. */
    onEvents: (listener: (event: RoomEvent) => void) => () => void;
  },
): View {
  // Loaded again when a plugin is switched: its commands come and go with it.
  let picks = loadPicks(ctx, room, you);
  const schedules = new SchedulesPanel(
    apiScope(ctx, (api) => remindersCalls(api, room)),
    { id: ctx.session.user.id, standing: you },
  );
  const rules = new RulesPanel({
    scope: apiScope(ctx, (api) => rulesCalls(api, room)),
    picks: () => picks,
    undo: live.undo,
    loaded: (list) => schedules.showRules(list),
  });
  const plugins = mayManageRoomPlugins(you)
    ? new RoomPluginsPanel(
        apiScope(ctx, (api) => roomPluginsCalls(api, room)),
        room,
        () => {
          picks = loadPicks(ctx, room, you);
        },
      )
    : undefined;
  const el = h(
    "section",
    {
      class: "integrations automation",
      "aria-label": `Automation of #${room}`,
      "data-testid": "automation",
      tabindex: -1,
    },
    h(
      "div",
      { class: "integrations-head" },
      h("p", {}, `Automation of #${room}: rules, schedules${plugins ? " and plugins" : ""}.`),
      h(
        "a",
        { href: roomHref(room), class: "button-link", "data-testid": "automation-close" },
        "Back to the room",
      ),
    ),
    rules.el,
    schedules.el,
    plugins?.el,
  );
  const follow = followLog(live.onEvents, {
    rules: () => rules.reload(),
    plugins: () => {
      picks = loadPicks(ctx, room, you);
      plugins?.reload();
    },
  });
  return { el, dispose: follow };
}

/**
 * Reloads what the room's log changed: the rules after `rule.*` events, the plugins after
 * `plugin.*` ones, once per burst (a save's own event comes right after the save's reload).
 * Answers the function that stops it.
 */
function followLog(
  onEvents: (listener: (event: RoomEvent) => void) => () => void,
  reload: { rules: () => void; plugins: () => void },
): () => void {
  const timers = new Map<keyof typeof reload, ReturnType<typeof setTimeout>>();
  const soon = (what: keyof typeof reload) => {
    clearTimeout(timers.get(what));
    timers.set(what, setTimeout(reload[what], 300));
  };
  const stop = onEvents((event) => {
    if (event.type.startsWith("rule.")) soon("rules");
    else if (event.type.startsWith("plugin.")) soon("plugins");
  });
  return () => {
    stop();
    for (const timer of timers.values()) clearTimeout(timer);
  };
}

/**
 * What the builder picks from, loaded once per opening: the room's incoming hooks and webhooks
 * (owners and admins: a moderator is told to ask the owner) and the commands of the plugins this
 * room runs; and the names of those ids, for the rules' words.
 */
async function loadPicks(
  ctx: AppContext,
  room: string,
  you: Standing,
): Promise<{ picks: BuilderPicks; names: Names }> {
  const owner = can(you, "integrations");
  const why = (what: string) => (error: unknown) =>
    error instanceof ApiError && error.status === 403
      ? `Only the room's owner can choose ${what}.`
      : `Could not load the ${what}: ${errorText(error)}`;
  const ownerOnly = `Only the room's owner can choose`;
  const [hooks, webhooks, commands] = await Promise.all([
    owner
      ? ctx.call((api) => incomingHooks(api, room)).catch(why("incoming webhooks"))
      : `${ownerOnly} incoming webhooks.`,
    owner
      ? ctx.call((api) => outgoingWebhooks(api, room)).catch(why("webhooks"))
      : `${ownerOnly} webhooks.`,
    ctx
      .call(async (api) => {
        const calls = roomPluginsCalls(api, room);
        const [manifests, states] = await Promise.all([calls.available(), calls.states()]);
        return commandChoices(
          manifests,
          new Set(states.filter((s) => s.enabled).map((s) => s.plugin)),
        );
      })
      .catch(why("plugins' commands")),
  ]);
  const orNone = (list: Choice[] | string, none: string) =>
    typeof list === "string" || list.length ? list : none;
  const hookChoices =
    typeof hooks === "string" ? hooks : hooks.map((hook) => ({ value: hook.id, label: hook.name }));
  const webhookChoices =
    typeof webhooks === "string"
      ? webhooks
      : webhooks.map((w) => ({ value: w.id, label: w.description || w.url }));
  return {
    picks: {
      hooks: orNone(hookChoices, "This room has no incoming webhook: add one in its Integrations."),
      webhooks: orNone(webhookChoices, "This room has no webhook: add one in its Integrations."),
      commands: orNone(commands, "No plugin with commands is on in this room."),
    },
    names: {
      hooks: new Map(
        typeof hookChoices === "string" ? [] : hookChoices.map((c) => [c.value, c.label]),
      ),
      webhooks: new Map(
        typeof webhookChoices === "string" ? [] : webhookChoices.map((c) => [c.value, c.label]),
      ),
    },
  };
}
