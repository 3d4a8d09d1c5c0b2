import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Actor } from "../identity/actor.ts";
import type { Rule } from "../protocol/automation.ts";
import type { ServiceScope } from "../protocol/service-accounts.ts";

/** The commands a rule's actions become; its actor's scope allows these and nothing else. */
export const RULE_COMMANDS = ["post", "react", "topic", "mute"] as const;

/** How a rule's actor is named: `Rule: Incident` (a rule's name is at most 80 characters). */
const NAME_PREFIX = "Rule: ";

/**
 * Who acts when a rule acts (docs/automation.md, "Who acts"): a service-style actor of its own
 * per room, `svc_` and 32 hex of SHA-256 over the room and the rule's id, as bridged Slack
 * authors are (src/integrations/slack-bridge.ts): the same after every restart and rename, never
 * anyone else (the prefix is a service's), and told apart from every other rule, so that the
 * loop protection can tell a rule's own actions. It stands as a moderator of its room, limited
 * to RULE_COMMANDS by its scope. Synchronous (@noble/hashes), so the engine stays a plain function.
 */
export function ruleActor(
  room: string,
  rule: Pick<Rule, "id" | "name"> & { instance?: boolean },
): Actor {
  return {
    id: ruleActorId(room, rule.id, rule.instance === true),
    name: `${NAME_PREFIX}${rule.name}`,
    kind: "service",
    scope: ruleScope(room),
  };
}

/** An instance rule's actor is told apart from a room rule's of the same id. */
export function ruleActorId(room: string, ruleId: string, instance = false): string {
  const digest = sha256(utf8ToBytes(`rule:${room}:${instance ? "instance:" : ""}${ruleId}`));
  return `svc_${bytesToHex(digest).slice(0, 32)}`;
}

export const ruleScope = (room: string): ServiceScope => ({
  rooms: [room],
  actions: [...RULE_COMMANDS],
  role: "moderator",
});
