import type {
  DryRunReport,
  EdgechatApi,
  IncomingHook,
  Rule,
  RuleInput,
  Webhook,
} from "../../client/index.ts";

/**
 * The rules panel's calls, on the SDK's `api.rules(room)` (docs/automation.md, "Rules in the
 * log"): a room's rules, saved, deleted and dry-run, for moderators and above. The panel sees
 * only what it shows (a save's rule, not the seq of its event).
 */
export type RulesCalls = {
  list(): Promise<Rule[]>;
  create(input: RuleInput): Promise<Rule>;
  save(id: string, input: RuleInput): Promise<Rule>;
  remove(id: string): Promise<void>;
  /** `room`: where an instance rule is tried; a room's rule runs in its own (left undefined). */
  dryRun(input: RuleInput, room?: string): Promise<DryRunReport>;
};

export function rulesCalls(api: EdgechatApi, room: string): RulesCalls {
  const rules = api.rules(room);
  return {
    list: async () => (await rules.list()).rules,
    create: async (input) => (await rules.create(input)).rule,
    save: async (id, input) => (await rules.save(id, input)).rule,
    remove: async (id) => void (await rules.delete(id)),
    dryRun: (input) => rules.dryRun(input),
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
