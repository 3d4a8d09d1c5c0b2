/**
 * The plugin API (docs/plugins.md): what a plugin module sees and returns. A plugin is one ES
 * module whose default export is `definePlugin({...})`; it runs in a Dynamic Worker of its own per
 * room, with no network unless the admin granted it hosts, and talks to the room only through
 * these values: hooks return verdicts and actions, the room carries them out as the plugin's bot.
 */

export type Person = { id: string; name: string };

/** A message about to be committed: a post or an edit, before anyone sees it. */
export type Draft = {
  kind: "post" | "edit";
  text: string;
  author: Person;
  room: string;
  /** The message replied to (posts) or edited (edits). */
  replyTo?: number;
  messageId?: number;
};

/** A before-commit hook's answer: let it through, refuse it (the author is told why), or change its text. */
export type Verdict = { allow: true } | { refuse: string } | { rewrite: string };

/** A committed event, as plugins see it. */
export type PluginEvent = {
  seq: number;
  type: string;
  at: number;
  author: Person;
  data: Record<string, unknown>;
};

/** What a plugin asks the room to do, as its own bot. */
export type PluginAction =
  | { post: string; replyTo?: number }
  | { edit: number; text: string }
  | { react: number; emoji: string };

export type CommandCall = {
  command: string;
  args: string;
  user: Person;
  room: string;
  /**
   * Addition: the caller's standing in the room (src/protocol/permissions.ts's ranks), so that a
   * plugin can keep its settings to moderators. Absent means no standing: treat it as "none".
   */
  rank?: "none" | "member" | "moderator" | "owner" | "admin";
};

/** A command's answer: `ephemeral` (the default) to the caller alone, `in_channel` posted by the plugin. */
export type CommandReply = {
  text?: string;
  visibility?: "ephemeral" | "in_channel";
  actions?: PluginAction[];
};

/** The plugin's key-value store: its own, one per room; values are JSON. */
export interface Store {
  get<T = unknown>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  list<T = unknown>(prefix?: string): Promise<{ key: string; value: T }[]>;
}

export type PluginContext = {
  room: string;
  store: Store;
  /** The global fetch: it reaches only the hosts the plugin was granted, and nothing without any. */
  fetch: typeof fetch;
};

type Awaitable<T> = T | Promise<T>;

export type PluginDefinition = {
  id: string;
  version: string;
  description?: string;
  /** Hosts its fetch asks to reach (granted at install). */
  hosts?: string[];
  beforeCommit?(draft: Draft, ctx: PluginContext): Awaitable<Verdict>;
  afterEvent?(event: PluginEvent, ctx: PluginContext): Awaitable<PluginAction[] | void>;
  commands?: Record<
    string,
    {
      usage: string;
      description: string;
      run(call: CommandCall, ctx: PluginContext): Awaitable<CommandReply>;
    }
  >;
  jobs?: Record<
    string,
    { cron: string; timeZone?: string; run(ctx: PluginContext): Awaitable<PluginAction[] | void> }
  >;
};

/** Marks a plugin's default export; it only gives the definition its type. */
export const definePlugin = (definition: PluginDefinition): PluginDefinition => definition;
