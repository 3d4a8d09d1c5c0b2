import type { EdgechatApi, PluginManifest, Webhook } from "../../client/index.ts";
import type { RulesCalls } from "../automation/rules-api.ts";

/**
 * The dashboard's Rules calls, on the SDK's `api.admin.rules` (docs/automation.md, "Instance
 * rules"): the instance's rules, saved, deleted and dry-run in a room, in the shape the rules
 * panel draws (automation/rules-panel.ts, as for a room's). Admins only.
 */
export function instanceRulesCalls(api: EdgechatApi): RulesCalls {
  const rules = api.admin.rules;
  return {
    list: async () => (await rules.list()).rules,
    create: async (input) => (await rules.create(input)).rule,
    save: async (id, input) => (await rules.save(id, input)).rule,
    remove: async (id) => void (await rules.delete(id)),
    dryRun: async (input, room) => {
      // The builder in the instance's scope asks for a room before it calls (rule-builder.ts).
      if (room === undefined) throw new Error("an instance rule is dry-run in a room");
      return rules.dryRun(input, room);
    },
  };
}

/** The instance's outgoing webhooks, which an instance rule's `webhook` action names. */
export async function instanceWebhooks(api: EdgechatApi): Promise<Webhook[]> {
  return (await api.admin.webhooks.list()).webhooks;
}

/** The rooms' names, by name, to dry-run in and to suggest (the first 200, as Rooms lists). */
export async function roomNames(api: EdgechatApi): Promise<string[]> {
  const { rooms } = await api.admin.rooms({ sort: "name", limit: 200 });
  return rooms.map((room) => room.name);
}

/**
 * The plugins enabled for the instance: an instance rule's `plugin` action may run their commands,
 * in the rooms that turned the plugin on.
 */
export async function instancePlugins(api: EdgechatApi): Promise<PluginManifest[]> {
  return (await api.plugins()).plugins;
}
