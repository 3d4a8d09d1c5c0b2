import { ApiError } from "../../client/index.ts";
import { errorText, type AppContext, type View } from "../context.ts";
import { h } from "../dom.ts";
import type { Names } from "../automation/automation-rules.ts";
import type { Choice } from "../automation/form-parts.ts";
import { commandChoices } from "../automation/plugin-rules.ts";
import type { BuilderPicks } from "../automation/rule-builder.ts";
import { RulesPanel } from "../automation/rules-panel.ts";
import { showTimedRules } from "../automation/schedules-panel.ts";
import { apiScope } from "../webhooks/scope.ts";
import { instancePlugins, instanceRulesCalls, instanceWebhooks, roomNames } from "./rules-api.ts";

/**
 * The dashboard's Rules section (docs/automation.md, "Instance rules", "In the dashboard"): the
 * instance's rules in the rules panel a room's Automation view has (automation/rules-panel.ts),
 * its builder in the instance's scope: the rooms a rule applies to, no incoming-webhook trigger,
 * the instance's webhooks to send to, and a room picked from the list to dry-run in. Below, the
 * rules that fire by the clock, soonest first, with their next times.
 */
export function rulesSection(ctx: AppContext): View {
  const picks = loadPicks(ctx);
  const timed = h("ul", { class: "schedule-list", "data-testid": "scheduled-rules" });
  const noTimed = h("p", { class: "hint" }, "No rule runs on a schedule or at a time.");
  const panel = new RulesPanel({
    ruleScope: "instance",
    scope: apiScope(ctx, instanceRulesCalls),
    picks: () => picks,
    loaded: (rules) => (noTimed.hidden = showTimedRules(timed, rules) > 0),
  });
  const el = h(
    "div",
    { class: "admin-section automation", "data-testid": "instance-rules" },
    panel.el,
    h(
      "section",
      { class: "card schedules", "aria-labelledby": "instance-schedules-title" },
      h("h3", { id: "instance-schedules-title" }, "On the clock"),
      h(
        "p",
        { class: "hint" },
        "A schedule fires in each room it applies to, once that room has picked the rule up.",
      ),
      noTimed,
      timed,
    ),
  );
  return { el, dispose() {} };
}

/**
 * What the builder picks from, loaded once per opening of the section: the instance's webhooks,
 * the commands of the plugins enabled for the instance, the rooms' names; and the webhooks'
 * names for the rules' words. A list that cannot load says why where it would be.
 */
async function loadPicks(ctx: AppContext): Promise<{ picks: BuilderPicks; names: Names }> {
  const why = (what: string) => (error: unknown) =>
    error instanceof ApiError && error.status === 403
      ? `Only instance admins can choose ${what}.`
      : `Could not load the ${what}: ${errorText(error)}`;
  const [webhooks, commands, rooms] = await Promise.all([
    ctx
      .call(instanceWebhooks)
      .then((list) => list.map((w) => ({ value: w.id, label: w.description || w.url })))
      .catch(why("webhooks")),
    ctx
      .call(instancePlugins)
      .then((manifests) => commandChoices(manifests, new Set(manifests.map((m) => m.id))))
      .catch(why("plugins' commands")),
    ctx.call(roomNames).catch(why("rooms")),
  ]);
  const orNone = <T>(list: readonly T[] | string, none: string) =>
    typeof list === "string" || list.length ? list : none;
  return {
    picks: {
      hooks: "An instance rule has no incoming webhook: make it a room's rule.",
      webhooks: orNone<Choice>(webhooks, "The instance has no webhook: add one in Webhooks."),
      commands: orNone<Choice>(commands, "No plugin with commands is enabled for the instance."),
      rooms: orNone(rooms, "There is no room yet."),
    },
    names: {
      webhooks: new Map(
        typeof webhooks === "string" ? [] : webhooks.map((c) => [c.value, c.label]),
      ),
    },
  };
}
