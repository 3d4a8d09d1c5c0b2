import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { LIMITS_AUTOMATION } from "../protocol/automation.ts";
import { contentHashOf, refusal, type Command, type Refusal } from "../protocol/index.ts";
import { LoggedRule } from "../protocol/rules.ts";
import type { Actor } from "../identity/actor.ts";
import { accept, refuse, type Decision } from "./decision.ts";
import type { RoomView } from "./room-view.ts";
import { standingOf } from "./standing.ts";

/**
 * The rules of the room's automation commands (docs/automation.md, "Rules in the log"): rules
 * are the moderators' (`manage_rules`), plugins the owner's (`manage_plugins`). Whether a plugin
 * is installed on the instance is the route's to check, not the room's.
 */

export type AutomationCommand = Extract<
  Command,
  { type: "save_rule" | "delete_rule" | "enable_plugin" | "disable_plugin" }
>;

/**
 * The id of a rule created without one: derived from who sent the command and its clientId, so
 * that the decision stays pure and a resent command names the same rule.
 * @example ruleIdFor("u_ada", "c1") // "rl_" and 16 hex, always the same for these two
 */
export function ruleIdFor(userId: string, clientId: string): string {
  const digest = bytesToHex(sha256(utf8ToBytes(`${userId}\n${clientId}`)));
  return `rl_${digest.slice(0, 16)}`;
}

/** Whether two rules say the same thing (canonical JSON: the order of keys does not count). */
export const sameRule = (a: LoggedRule | undefined, b: LoggedRule | undefined): boolean =>
  a === undefined || b === undefined ? a === b : contentHashOf(a) === contentHashOf(b);

/** The refusal when the room has all the rules it may have. */
export function ruleQuota(view: RoomView): Refusal | undefined {
  const max = LIMITS_AUTOMATION.rulesPerRoom;
  if (view.ruleCount() < max) return undefined;
  return { code: "quota", message: `this room has ${max} rules, its limit: delete one first` };
}

export function decideAutomation(
  command: AutomationCommand,
  actor: Actor,
  view: RoomView,
): Decision {
  const power = command.type.endsWith("_rule") ? "manage_rules" : "manage_plugins";
  const denied = refusal(standingOf(view, actor), power);
  if (denied) return { ok: false, error: denied };
  switch (command.type) {
    case "save_rule":
      return decideSave(command, actor, view);
    case "delete_rule": {
      const existing = view.rule(command.ruleId);
      if (!existing) return refuse("not_found", `no rule ${command.ruleId}`);
      return accept({
        type: "rule.deleted",
        data: { ruleId: command.ruleId, name: existing.name },
      });
    }
    case "enable_plugin":
      if (view.pluginEnabled(command.plugin)) return accept();
      return accept({ type: "plugin.enabled", data: { plugin: command.plugin } });
    case "disable_plugin":
      if (!view.pluginEnabled(command.plugin)) return accept();
      return accept({ type: "plugin.disabled", data: { plugin: command.plugin } });
  }
}

/**
 * Creates or replaces a rule. The rule is parsed again here, defaults and all: the room's RPC
 * may be called with a rule no route parsed, and the log must hold one shape only.
 */
function decideSave(
  command: Extract<AutomationCommand, { type: "save_rule" }>,
  actor: Actor,
  view: RoomView,
): Decision {
  const id = command.id ?? ruleIdFor(actor.id, command.clientId);
  const parsed = LoggedRule.safeParse({ ...command.rule, id });
  if (!parsed.success)
    return refuse("bad_request", `rule: ${parsed.error.issues[0]?.message ?? "not a rule"}`);
  const rule = parsed.data;
  const existing = view.rule(id);
  if (existing && command.id === undefined)
    return refuse("conflict", `rule ${id} exists already: save it by its id`);
  // Saving what is there already is a no-op, not a new version: two tabs may save at once.
  if (sameRule(existing, rule)) return accept();
  const full = existing ? undefined : ruleQuota(view);
  if (full) return { ok: false, error: full };
  return accept({ type: "rule.saved", data: { rule } });
}
