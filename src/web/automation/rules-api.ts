import * as z from "zod";
import {
  DryRunReport,
  Rule,
  type EdgechatApi,
  type IncomingHook,
  type RuleInput,
  type Webhook,
} from "../../client/index.ts";
import { ApiRequests } from "../../client/requests.ts";

/**
 * The rules panel's calls, in one place until the SDK's `api.rules(room)` lands (then each call
 * becomes that class's): a room's rules, saved, deleted and dry-run (docs/automation.md, "Rules
 * in the log"), moderators and above. Answers are parsed by the contract's schemas.
 */
export type RulesCalls = {
  list(): Promise<Rule[]>;
  create(input: RuleInput): Promise<Rule>;
  save(id: string, input: RuleInput): Promise<Rule>;
  remove(id: string): Promise<void>;
  dryRun(input: RuleInput): Promise<DryRunReport>;
};

const RuleList = z.object({ rules: z.array(Rule) });
/** A save's answer: the rule as stored, and the seq of its `rule.saved`. */
const SavedRule = z.object({ rule: Rule, seq: z.number() });

export function rulesCalls(api: EdgechatApi, room: string): RulesCalls {
  const requests = new ApiRequests(api.baseUrl, api.token);
  const base = `/api/rooms/${encodeURIComponent(room)}/rules`;
  const one = (id: string) => `${base}/${encodeURIComponent(id)}`;
  return {
    list: async () => (await requests.call(RuleList, "GET", base)).rules,
    create: async (input) => (await requests.call(SavedRule, "POST", base, input)).rule,
    save: async (id, input) => (await requests.call(SavedRule, "PUT", one(id), input)).rule,
    remove: (id) => requests.send("DELETE", one(id)),
    dryRun: (input) => requests.call(DryRunReport, "POST", `${base}/dry-run`, { rule: input }),
  };
}

/** The room's incoming webhooks a `webhook` trigger may name (revoked ones cannot post). */
export async function incomingHooks(api: EdgechatApi, room: string): Promise<IncomingHook[]> {
  const { hooks } = await api.incomingWebhooks(room).list();
  return hooks.filter((hook) => hook.revokedAt === null);
}

/** The room's outgoing webhooks a `webhook` action may send to. */
export async function outgoingWebhooks(api: EdgechatApi, room: string): Promise<Webhook[]> {
  return (await api.webhooks(room).list()).webhooks;
}
